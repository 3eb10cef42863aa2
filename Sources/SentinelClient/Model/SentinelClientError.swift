import RESP

/// The one error type of the client. Its `code` is stable and is what callers
/// switch on; `description` says what was tried and what to do; the error that
/// caused it, if any, is kept in `underlyingError`.
public struct SentinelClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String, Sendable {
            case noSentinelReachable, unknownMasterName, sentinelAuthenticationFailed, noVerifiedMaster
            case masterAuthenticationFailed, connectFailed, commandInDoubt, commandNotSent, masterUnavailable
            case malformedReply, pinnedConnectionLost, cancelled, notRunning, shutDown, tlsFailed, noHealthyReplica
            case notASentinel, failoverFailed, scanFailed, snapshotFailed
        }

        fileprivate let value: Value

        /// No sentinel answered at all.
        public static var noSentinelReachable: Code { Code(value: .noSentinelReachable) }
        /// Every address given as a sentinel that answered is something else: a Redis or
        /// Valkey data node, a Cluster node, or a service that does not speak RESP.
        public static var notASentinel: Code { Code(value: .notASentinel) }
        /// A coordinated failover stopped; `description` says at which step, and that
        /// writes were resumed on the master.
        public static var failoverFailed: Code { Code(value: .failoverFailed) }
        /// A keyspace scan (`KeyScan`) stopped: a node refused SCAN with an error that
        /// another node would give too (a bad pattern or type), or no node is left to go on on.
        public static var scanFailed: Code { Code(value: .scanFailed) }
        /// Fetching a snapshot (`fetchRDB`) stopped: the node refused a step (`command`
        /// says which, `reason` its reply) or the transfer broke off.
        public static var snapshotFailed: Code { Code(value: .snapshotFailed) }
        /// Every sentinel that answered says it does not monitor this name.
        public static var unknownMasterName: Code { Code(value: .unknownMasterName) }
        /// Sentinels refused the sentinel credentials.
        public static var sentinelAuthenticationFailed: Code { Code(value: .sentinelAuthenticationFailed) }
        /// Sentinels answered, but no address they named is a reachable master (ROLE).
        public static var noVerifiedMaster: Code { Code(value: .noVerifiedMaster) }
        /// Every server tried failed its TLS handshake (`reason` of each attempt says how).
        public static var tlsFailed: Code { Code(value: .tlsFailed) }
        /// No replica Sentinel lists is healthy (flags) and answers ROLE as a connected replica.
        public static var noHealthyReplica: Code { Code(value: .noHealthyReplica) }
        /// The master refused the data-node credentials.
        public static var masterAuthenticationFailed: Code { Code(value: .masterAuthenticationFailed) }
        /// A connection to a server could not be made (`reason` says why).
        public static var connectFailed: Code { Code(value: .connectFailed) }
        /// The command was written but no reply came: it may have run.
        public static var commandInDoubt: Code { Code(value: .commandInDoubt) }
        /// The command was never written: it certainly did not run.
        public static var commandNotSent: Code { Code(value: .commandNotSent) }
        /// The client waited for a master and none became available in time.
        public static var masterUnavailable: Code { Code(value: .masterUnavailable) }
        /// A reply could not be decoded; its connection was closed.
        public static var malformedReply: Code { Code(value: .malformedReply) }
        /// The pinned connection a command had to run on is gone; it was not sent elsewhere.
        public static var pinnedConnectionLost: Code { Code(value: .pinnedConnectionLost) }
        /// The calling task was cancelled before the command was written.
        public static var cancelled: Code { Code(value: .cancelled) }
        /// `run()` has not been called yet.
        public static var notRunning: Code { Code(value: .notRunning) }
        /// The client was shut down.
        public static var shutDown: Code { Code(value: .shutDown) }

        public var description: String { value.rawValue }
    }

    public let code: Code
    /// The server or sentinel concerned, when there is one.
    public let address: ServerAddress?
    /// The command concerned, when there is one.
    public let command: String?
    /// Why the connection failed or was lost (`connectFailed`, `commandInDoubt`, `commandNotSent`, ...).
    public let reason: FailureReason?
    /// Every sentinel tried, for the discovery codes.
    public let attempts: [DiscoveryAttempt]
    /// The error that caused this one, kept as it was.
    public let underlyingError: (any Error)?
    private let message: String

    init(
        _ code: Code, _ message: String, address: ServerAddress? = nil, command: String? = nil,
        reason: FailureReason? = nil, attempts: [DiscoveryAttempt] = [], underlying: (any Error)? = nil
    ) {
        self.code = code
        // Server text (an error reply, a role) goes in as it came: it is escaped here.
        self.message = Printable.escaped(message)
        self.address = address
        self.command = command
        self.reason = reason
        self.attempts = attempts
        self.underlyingError = underlying
    }

    public var description: String { message }

    /// True when the failed command certainly did not run on the server.
    public var certainlyNotRun: Bool { code != .commandInDoubt && code != .malformedReply }

    // MARK: Making them

    static func noSentinelReachable(masterName: String, attempts: [DiscoveryAttempt]) -> Self {
        Self(
            .noSentinelReachable,
            "no sentinel reachable for master '\(masterName)'; tried \(list(attempts))."
                + " Check the sentinel addresses and that redis-sentinel runs there.", attempts: attempts)
    }

    static func unknownMasterName(_ name: String, attempts: [DiscoveryAttempt]) -> Self {
        let monitored = Set(attempts.flatMap(\.monitoredMasters)).sorted()
        let names = monitored.isEmpty
            ? " The sentinels monitor no master."
            : " The sentinels monitor: \(monitored.map { "'\(Printable.escaped($0))'" }.joined(separator: ", "))."
        return Self(
            .unknownMasterName,
            "no sentinel knows a master named '\(name)'; tried \(list(attempts)).\(names)", attempts: attempts)
    }

    static func failoverFailed(_ step: String, master: ServerAddress, after: String) -> Self {
        Self(.failoverFailed, "the failover stopped: \(step); \(after)", address: master)
    }

    static func notASentinel(masterName: String, attempts: [DiscoveryAttempt]) -> Self {
        let found = attempts.map { attempt in
            switch attempt.reason {
            case .notASentinel, .clusterNode: "\(attempt.sentinel) is \(attempt.reason)"
            case .notRESP: "\(attempt.sentinel) \(attempt.reason)"
            default: "\(attempt.sentinel): \(attempt.reason)"
            }
        }
        let advice = attempts.contains(where: \.reason.isClusterNode)
            ? "This client is for Sentinel deployments."
            : "Give a sentinel's address (Sentinel listens on port \(SentinelURL.defaultSentinelPort) by default)."
        return Self(
            .notASentinel, "no sentinel to ask for '\(masterName)': \(found.joined(separator: "; ")). \(advice)",
            attempts: attempts)
    }

    static func sentinelAuthenticationFailed(masterName: String, attempts: [DiscoveryAttempt]) -> Self {
        Self(
            .sentinelAuthenticationFailed,
            "sentinels refused our credentials while looking up '\(masterName)'; tried \(list(attempts))."
                + " Check the sentinel user and password.", attempts: attempts)
    }

    static func tlsFailed(masterName: String, attempts: [DiscoveryAttempt]) -> Self {
        Self(
            .tlsFailed,
            "TLS failed for every server tried for master '\(masterName)'; tried \(list(attempts))."
                + " Check the TLS settings.",
            attempts: attempts)
    }

    static func noHealthyReplica(masterName: String, tried: [(ServerAddress, FailureReason)]) -> Self {
        let detail = tried.isEmpty
            ? "Sentinel lists none without s_down, o_down or disconnected"
            : "tried " + tried.map { "\($0.0): \($0.1)" }.joined(separator: "; ")
        return Self(.noHealthyReplica, "no healthy replica of '\(masterName)': \(detail)")
    }

    static func scanFailed(_ what: String, address: ServerAddress?, cursor: String) -> Self {
        Self(.scanFailed, "the scan stopped at cursor \(cursor): \(what)", address: address)
    }

    static func snapshotFailed(_ what: String, address: ServerAddress, command: String? = nil, reason: FailureReason? = nil) -> Self {
        Self(.snapshotFailed, "the snapshot from \(address) failed: \(what)", address: address, command: command, reason: reason)
    }

    static func noVerifiedMaster(masterName: String, attempts: [DiscoveryAttempt]) -> Self {
        Self(
            .noVerifiedMaster,
            "no reachable master for '\(masterName)'; tried \(list(attempts))."
                + " A failover may be under way; retry in a few seconds.", attempts: attempts)
    }

    /// The sentinels name a master that did not answer and that no address map entry covers.
    static func masterNotInAddressMap(masterName: String, address: ServerAddress, attempts: [DiscoveryAttempt]) -> Self {
        let reasons = Set(attempts.compactMap { attempt -> String? in
            guard case .notInAddressMap(_, let reason) = attempt.reason else { return nil }
            return reason.description
        }).sorted()
        return Self(
            .noVerifiedMaster,
            "Sentinel names \(address) as the master of '\(masterName)'; it is not reached (\(reasons.joined(separator: "; ")))"
                + " and no address map entry covers it: add natmap \(address)=HOST:PORT", address: address,
            reason: attempts.first?.reason, attempts: attempts)
    }

    static func masterAuthenticationFailed(address: ServerAddress, message: String) -> Self {
        Self(
            .masterAuthenticationFailed,
            "master \(address) refused the credentials (\(message)). Check the data-node user and password.",
            address: address, reason: .authenticationFailed(message))
    }

    static func connectFailed(address: ServerAddress, reason: FailureReason, underlying: (any Error)? = nil) -> Self {
        Self(.connectFailed, "could not connect to \(address): \(reason)", address: address, reason: reason, underlying: underlying)
    }

    static func commandInDoubt(command: String, address: ServerAddress, reason: String) -> Self {
        Self(
            .commandInDoubt, "\(command) was sent to \(address) but no reply came (\(reason)): it may or may not have run",
            address: address, command: command, reason: .connectionLost(reason))
    }

    static func commandNotSent(command: String, address: ServerAddress, reason: String) -> Self {
        Self(
            .commandNotSent, "\(command) was not sent to \(address) (\(reason)): it did not run", address: address,
            command: command, reason: .connectionLost(reason))
    }

    static func masterUnavailable(masterName: String, waitedMilliseconds: Int, lastError: String?) -> Self {
        Self(
            .masterUnavailable,
            "no master for '\(masterName)' after waiting \(waitedMilliseconds) ms"
                + (lastError.map { " (last error: \($0))" } ?? "") + "; the command was not sent")
    }

    static func malformedReply(address: ServerAddress, description: String, underlying: RESPDecodingError? = nil) -> Self {
        Self(
            .malformedReply, "\(address) sent a reply that is not valid RESP: \(description); the connection was closed",
            address: address, reason: .malformedReply(description), underlying: underlying)
    }

    static func pinnedConnectionLost(command: String, address: ServerAddress, reason: String) -> Self {
        Self(
            .pinnedConnectionLost,
            "\(command) was not sent: its connection to \(address) is gone (\(reason)),"
                + " and state kept on that connection (MULTI, WATCH) would be missing on another",
            address: address, command: command)
    }

    /// A new connection could not be prepared for the command (its `prepare` threw).
    static func preparationFailed(command: String, address: ServerAddress, error: any Error) -> Self {
        Self(
            .commandNotSent, "\(command) was not sent: preparing the new connection to \(address) failed (\(error))",
            address: address, command: command, reason: .other("\(error)"), underlying: error)
    }

    static var cancelled: Self { Self(.cancelled, "the command was cancelled before it was sent") }
    static var notRunning: Self {
        Self(.notRunning, "the client is not running: call run() first (or add the client to a ServiceGroup)")
    }
    static var shutDown: Self { Self(.shutDown, "the client is shut down") }

    /// Any error as this type: ours as they are, cancellation as `cancelled`,
    /// anything else as a lost connection that kept it as the underlying error.
    static func wrapping(_ error: any Error, address: ServerAddress? = nil) -> Self {
        if let error = error as? Self { return error }
        if error is CancellationError { return .cancelled }
        return Self(
            .connectFailed, "\(address.map { "\($0): " } ?? "")\(error)", address: address,
            reason: .other("\(error)"), underlying: error)
    }

    private static func list(_ attempts: [DiscoveryAttempt]) -> String {
        attempts.isEmpty ? "nothing" : attempts.map(\.description).joined(separator: "; ")
    }
}
