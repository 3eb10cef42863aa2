import Logging
import NIOCore
import RESP

/// The Sentinel client protocol: ask sentinels in order, verify with ROLE.
struct Discovery: Sendable {
    var configuration: SentinelClientConfiguration
    var logger: Logger
    /// Connects with a handshake, a connect timeout and a reply timeout (nil: none).
    var dial: @Sendable (ServerAddress, HandshakeSettings, TimeAmount, TimeAmount?) async throws -> RedisConnection

    func run(order: [ServerAddress], observe: @Sendable (DiscoveryAttempt?, SentinelAnswer?) async -> Void)
        async throws(SentinelClientError) -> DiscoveryResult
    {
        let delay = configuration.roleMismatchDelay
        let outcome = try await Self.search(
            order: order, ask: ask, verify: verify,
            pause: { try await Task.sleep(nanoseconds: UInt64(delay.nanoseconds)) },
            reason: reason(for:),
            observe: { attempt, answer in
                if let attempt { logger.debug("discovery try failed", metadata: ["attempt": "\(attempt)"]) }
                await observe(attempt, answer)
            })
        switch outcome {
        case .found(let found):
            logger.debug("ROLE confirms the master", metadata: ["sentinel": "\(found.answer.sentinel)", "master": "\(found.master)"])
            return DiscoveryResult(
                master: found.master, answeredBy: found.answer, role: found.role, connection: found.connection,
                attempts: found.attempts)
        case .exhausted(let attempts):
            throw classify(attempts)
        }
    }

    /// What a search found: the master a sentinel named and ROLE confirmed.
    struct Found<Connection: Sendable>: Sendable {
        var master: ServerAddress
        var answer: SentinelAnswer
        var role: MasterRole
        var connection: Connection
        var attempts: [DiscoveryAttempt]
    }

    enum SearchOutcome<Connection: Sendable>: Sendable {
        case found(Found<Connection>)
        /// Every sentinel was tried; why each failed.
        case exhausted([DiscoveryAttempt])
    }

    /// The protocol's steps in order, the I/O injected: ask each sentinel in turn;
    /// verify the master it names; after a failed check pause before the next one
    /// (a stale sentinel, or a failover under way). Every failure is an attempt, seen
    /// by `observe` as it happens.
    static func search<Connection: Sendable>(
        order: [ServerAddress],
        ask: (ServerAddress) async throws -> SentinelAnswer,
        verify: (ServerAddress) async -> Result<(MasterRole, Connection), FailureReason>,
        pause: () async throws -> Void,
        reason: (any Error) -> FailureReason,
        observe: (DiscoveryAttempt?, SentinelAnswer?) async -> Void
    ) async throws(SentinelClientError) -> SearchOutcome<Connection> {
        var attempts: [DiscoveryAttempt] = []
        // An unreached master that no address-map entry covers is not tried again in this
        // search when the next sentinel names it too: another wait would tell nothing new.
        // (Any other is: a master busy with a slow command may answer the next try.)
        var unmapped: [ServerAddress: FailureReason] = [:]
        func failed(_ attempt: DiscoveryAttempt, _ answer: SentinelAnswer?) async {
            attempts.append(attempt)
            await observe(attempt, answer)
        }
        for sentinel in order {
            if Task.isCancelled { throw .cancelled }
            let answer: SentinelAnswer
            do { answer = try await ask(sentinel) } catch {
                await failed(DiscoveryAttempt(sentinel: sentinel, reason: reason(error)), nil)
                continue
            }
            guard let master = answer.master else {
                let attempt = DiscoveryAttempt(sentinel: sentinel, reason: .unknownMasterName, monitoredMasters: answer.monitoredMasters)
                await failed(attempt, answer)
                continue
            }
            if let failure = unmapped[master] {
                await failed(DiscoveryAttempt(sentinel: sentinel, namedMaster: master, reason: failure), answer)
                continue
            }
            switch await verify(master) {
            case .success(let (role, connection)):
                await observe(nil, answer)
                return .found(Found(master: master, answer: answer, role: role, connection: connection, attempts: attempts))
            case .failure(let failure):
                if case .notInAddressMap = failure { unmapped[master] = failure }
                await failed(DiscoveryAttempt(sentinel: sentinel, namedMaster: master, reason: failure), answer)
                do { try await pause() } catch { throw .cancelled }
            }
        }
        return .exhausted(attempts)
    }

    /// One short-lived connection within one try's deadline, closed when `body` is done.
    private func withTryConnection<T: Sendable>(
        to address: ServerAddress, _ handshake: HandshakeSettings,
        _ body: @escaping @Sendable (RedisConnection) async throws -> T
    ) async throws -> T {
        let timeout = configuration.sentinelTryTimeout
        let dial = self.dial
        return try await withDeadline(timeout) {
            let connection = try await dial(address, handshake, timeout, timeout)
            defer { connection.close(reason: "done") }
            return try await body(connection)
        }
    }

    /// The `ip` and `port` fields of each entry of a SENTINEL listing.
    static func fields(of listing: RESPValue) -> [(address: ServerAddress, fields: [String: RESPValue])] {
        (listing.elements ?? []).compactMap { entry in
            let fields = entry.fieldMap
            guard let host = fields["ip"]?.string, let port = fields["port"]?.integer else { return nil }
            return (ServerAddress(host: host, port: Int(port)), fields)
        }
    }

    /// `SENTINEL get-master-addr-by-name` and `SENTINEL sentinels` in one round trip.
    func ask(_ sentinel: ServerAddress) async throws -> SentinelAnswer {
        do {
            return try await askSentinel(sentinel)
        } catch let error as SentinelClientError where error.code == .malformedReply {
            // Its very first reply is not RESP: another kind of service listens there.
            let firstByte: UInt8? = if case .unknownTypeByte(let byte)? = error.underlyingError as? RESPDecodingError { byte } else { nil }
            throw SentinelClientError.connectFailed(address: sentinel, reason: .notRESP(ServerIdentity.describeNonRESP(firstByte: firstByte)))
        }
    }

    private func askSentinel(_ sentinel: ServerAddress) async throws -> SentinelAnswer {
        let configuration = self.configuration
        let started = NIODeadline.now()
        return try await withTryConnection(to: sentinel, configuration.sentinelHandshake) { connection in
            let replies = try await connection.pipeline([
                RESPCommand("SENTINEL", "get-master-addr-by-name", configuration.masterName),
                RESPCommand("SENTINEL", "sentinels", configuration.masterName),
            ]).map { try $0.get() }
            let latency = Int((NIODeadline.now() - started).nanoseconds / 1000)
            if let message = replies[0].errorMessage {
                if RedisConnection.isAuthError(replies[0]) {
                    throw SentinelClientError.connectFailed(address: sentinel, reason: .authenticationFailed(message))
                }
                if message.hasPrefix("ERR unknown command") {
                    throw SentinelClientError.connectFailed(address: sentinel, reason: try await Self.whatServer(on: connection))
                }
                throw SentinelClientError.connectFailed(address: sentinel, reason: .errorReply(message))
            }
            let master = Self.namedMaster(replies[0])
            let others = Self.fields(of: replies[1]).map(\.address)
            var answer = SentinelAnswer(sentinel: sentinel, master: master, otherSentinels: others, latencyMicroseconds: latency)
            // Only on the way to an error: which names it does monitor.
            if master == nil { answer.monitoredMasters = try await Self.monitoredMasters(on: connection) }
            return answer
        }
    }

    /// The address of a `get-master-addr-by-name` reply; nil for a null (unknown name).
    static func namedMaster(_ reply: RESPValue) -> ServerAddress? {
        guard let fields = reply.elements, fields.count == 2, let host = fields[0].string, let port = fields[1].integer else { return nil }
        return ServerAddress(host: host, port: Int(port))
    }

    /// `SENTINEL MASTERS`: the names of the masters a sentinel monitors.
    private static func monitoredMasters(on connection: RedisConnection) async throws -> [String] {
        let reply = try await connection.send(RESPCommand("SENTINEL", "masters"))
        return (reply.elements ?? []).compactMap { $0.fieldMap["name"]?.string }.sorted()
    }

    /// A server that does not know SENTINEL: `INFO server` says which it is.
    private static func whatServer(on connection: RedisConnection) async throws -> FailureReason {
        let info = try await connection.send(RESPCommand("INFO", "server"))
        return ServerIdentity(info: info.string ?? "").failureAsSentinel
    }

    /// Connects to the named address with the data-node handshake and runs ROLE. The
    /// connection joins the pool: its reply timeout is the data nodes' (the deadline
    /// bounds the check itself).
    func verify(_ address: ServerAddress) async -> Result<(MasterRole, RedisConnection), FailureReason> {
        let configuration = self.configuration
        let dial = self.dial
        do {
            return try await withDeadline(configuration.sentinelTryTimeout, discardLate: Self.closeVerified) {
                let connection = try await dial(
                    address, configuration.dataHandshake, configuration.sentinelTryTimeout, configuration.commandTimeout)
                do {
                    switch MasterRole.parse(try await connection.send(RESPCommand("ROLE"))) {
                    case .success(let role): return .success((role, connection))
                    case .failure(let reason):
                        connection.close(reason: "not a master")
                        return .failure(reason)
                    }
                } catch {
                    connection.close(reason: "ROLE failed")
                    throw error
                }
            }
        } catch {
            return .failure(configuration.failureReaching(address, reason(for: error)))
        }
    }

    /// A verified connection whose ROLE check finished after the deadline.
    @Sendable private static func closeVerified(_ late: Result<(MasterRole, RedisConnection), FailureReason>) {
        if case .success(let (_, connection)) = late { connection.close(reason: "verified after the deadline") }
    }

    /// `SENTINEL replicas <name>` on one sentinel.
    func listReplicas(_ sentinel: ServerAddress) async throws -> [ReplicaProbe] {
        let configuration = self.configuration
        return try await withTryConnection(to: sentinel, configuration.sentinelHandshake) { connection in
            let reply = try await connection.send(RESPCommand("SENTINEL", "replicas", configuration.masterName))
            if let message = reply.errorMessage {
                throw SentinelClientError.connectFailed(address: sentinel, reason: .errorReply(message))
            }
            return Self.fields(of: reply).map { replica in
                ReplicaProbe(
                    address: replica.address, flags: replica.fields["flags"]?.string ?? "",
                    offset: replica.fields["slave-repl-offset"]?.integer,
                    masterLinkUp: replica.fields["master-link-status"]?.string.map { $0 == "ok" })
            }
        }
    }

    /// `SENTINEL FAILOVER <name> [COORDINATED]` on one sentinel: its reply (`OK`, or an
    /// error reply such as `NOGOODSLAVE` or `INPROG`).
    func failover(_ sentinel: ServerAddress, coordinated: Bool) async throws -> RESPValue {
        let configuration = self.configuration
        return try await withTryConnection(to: sentinel, configuration.sentinelHandshake) { connection in
            try await connection.send(RESPCommand(strings: ["SENTINEL", "FAILOVER", configuration.masterName] + (coordinated ? ["COORDINATED"] : [])))
        }
    }

    /// `SENTINEL CKQUORUM <name>` on one sentinel: its verdict, an error reply as text.
    func checkQuorum(_ sentinel: ServerAddress) async throws -> QuorumVerdict {
        let configuration = self.configuration
        return try await withTryConnection(to: sentinel, configuration.sentinelHandshake) { connection in
            let reply = try await connection.send(RESPCommand("SENTINEL", "ckquorum", configuration.masterName))
            if let message = reply.string { return QuorumVerdict(sentinel: sentinel, reached: true, message: message) }
            return QuorumVerdict(sentinel: sentinel, reached: false, message: reply.errorMessage ?? "unexpected reply: \(reply)")
        }
    }

    /// ROLE on any data node, described in one line.
    func role(of address: ServerAddress) async -> String {
        do {
            return try await withTryConnection(to: address, configuration.dataHandshake) { connection in
                switch ServerRole.parse(try await connection.send(RESPCommand("ROLE"))) {
                case .success(let role): return role.description
                case .failure(let reason): return "ROLE failed: \(reason)"
                }
            }
        } catch {
            return "ROLE failed: \(reason(for: error))"
        }
    }

    func reason(for error: any Error) -> FailureReason {
        let timedOut = FailureReason.timedOut(milliseconds: Int(configuration.sentinelTryTimeout.nanoseconds / 1_000_000))
        switch error {
        case let deadline as DeadlineExceeded:
            if let late = deadline.lateError as? SentinelClientError, case .tls(let failure)? = late.reason { return .tls(failure) }
            return timedOut
        case is CancellationError:
            return timedOut
        case let error as SentinelClientError:
            // A try cut short by its deadline is cancelled: that is the timeout.
            return error.code == .cancelled ? timedOut : error.reason ?? .other(error.description)
        default:
            return .other("\(error)")
        }
    }

    /// The one master every answering sentinel named, when none reached it and no address
    /// map entry covers it.
    static func unmappedMaster(_ answered: [DiscoveryAttempt]) -> ServerAddress? {
        let named = Set(answered.map(\.namedMaster))
        guard named.count == 1, let master = named.first ?? nil else { return nil }
        let allUnmapped = answered.allSatisfy { if case .notInAddressMap = $0.reason { true } else { false } }
        return allUnmapped ? master : nil
    }

    /// Turns the attempts into the one error that best tells the person what to fix.
    func classify(_ attempts: [DiscoveryAttempt]) -> SentinelClientError {
        let name = configuration.masterName
        if !attempts.isEmpty, attempts.allSatisfy({ if case .tls = $0.reason { true } else { false } }) {
            return .tlsFailed(masterName: name, attempts: attempts)
        }
        let reached = attempts.filter { attempt in
            switch attempt.reason {
            case .connectionRefused, .timedOut, .connectionLost, .tls, .other: return attempt.namedMaster != nil
            default: return true
            }
        }
        if reached.isEmpty { return .noSentinelReachable(masterName: name, attempts: attempts) }
        // What answered as something else (a data node given as a sentinel) has no say beside a sentinel.
        let answered = reached.filter { !$0.reason.meansNotASentinel }
        if answered.isEmpty { return .notASentinel(masterName: name, attempts: attempts) }
        func isAuth(_ a: DiscoveryAttempt) -> Bool {
            if case .authenticationFailed = a.reason { return true }
            return false
        }
        if let masterAuth = answered.first(where: { $0.namedMaster != nil && isAuth($0) }),
            case .authenticationFailed(let message) = masterAuth.reason, let address = masterAuth.namedMaster
        {
            return .masterAuthenticationFailed(address: address, message: message)
        }
        if answered.allSatisfy({ $0.namedMaster == nil && isAuth($0) }) {
            return .sentinelAuthenticationFailed(masterName: name, attempts: attempts)
        }
        if answered.allSatisfy({ $0.reason == .unknownMasterName }) {
            return .unknownMasterName(name, attempts: attempts)
        }
        if let unmapped = Self.unmappedMaster(answered) {
            return .masterNotInAddressMap(masterName: name, address: unmapped, attempts: answered)
        }
        return .noVerifiedMaster(masterName: name, attempts: attempts)
    }
}
