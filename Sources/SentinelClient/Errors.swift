import RESP

/// Host and port of a Redis server or sentinel.
public struct ServerAddress: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `[v6]:port`, or a bare host (with `defaultPort`).
    public init?(_ text: String, defaultPort: Int? = nil) {
        var host = Substring(text)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if rest.hasPrefix(":") { portText = rest.dropFirst() } else if !rest.isEmpty { return nil }
        } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty else { return nil }
        guard let port = portText.map({ Int($0) }) ?? defaultPort, (1...65535).contains(port) else {
            return nil
        }
        self.host = String(host)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public static func < (a: ServerAddress, b: ServerAddress) -> Bool { (a.host, a.port) < (b.host, b.port) }
}

/// Why one try at one server failed, as shown to a person.
public enum FailureReason: Error, Sendable, Hashable, CustomStringConvertible {
    case connectionRefused
    case timedOut(milliseconds: Int)
    case authenticationFailed(String)
    case unknownMasterName
    case notAMaster(role: String)
    case errorReply(String)
    case connectionLost(String)
    case malformedReply(String)
    case other(String)

    public var description: String {
        switch self {
        case .connectionRefused: return "connection refused"
        case .timedOut(let ms): return "no answer within \(ms) ms"
        case .authenticationFailed(let message): return "authentication failed (\(message))"
        case .unknownMasterName: return "does not know this master name"
        case .notAMaster(let role): return "address is not a master (ROLE says \(role))"
        case .errorReply(let message): return "error reply: \(message)"
        case .connectionLost(let message): return "connection lost: \(message)"
        case .malformedReply(let message): return message
        case .other(let message): return message
        }
    }
}

/// One step of a discovery: a sentinel asked, or the master it named.
public struct DiscoveryAttempt: Sendable, Hashable, CustomStringConvertible {
    public var sentinel: ServerAddress
    /// The master address the sentinel named, when it named one.
    public var namedMaster: ServerAddress?
    public var reason: FailureReason

    public var description: String {
        if let master = namedMaster {
            return "sentinel \(sentinel) named \(master): \(reason)"
        }
        return "sentinel \(sentinel): \(reason)"
    }
}

/// Every error of the client says what was tried and what to do.
public enum SentinelClientError: Error, Sendable, CustomStringConvertible {
    /// No sentinel answered at all.
    case noSentinelReachable(masterName: String, attempts: [DiscoveryAttempt])
    /// Every sentinel that answered says it does not monitor this name.
    case unknownMasterName(String, attempts: [DiscoveryAttempt])
    /// Sentinels refused our credentials.
    case sentinelAuthenticationFailed(masterName: String, attempts: [DiscoveryAttempt])
    /// Sentinels answered but no address they named is a reachable, verified master.
    case noVerifiedMaster(masterName: String, attempts: [DiscoveryAttempt])
    /// The master refused the data-node credentials.
    case masterAuthenticationFailed(address: ServerAddress, message: String)
    /// A connection to a server could not be made.
    case connectFailed(address: ServerAddress, reason: FailureReason)
    /// The command was written but no reply came: it may have run.
    case commandInDoubt(command: String, address: ServerAddress, reason: String)
    /// The command was never written: it certainly did not run.
    case commandNotSent(command: String, address: ServerAddress, reason: String)
    /// The client waited for a master and none became available in time.
    case masterUnavailable(masterName: String, waitedMilliseconds: Int, lastError: String?)
    /// The reply could not be decoded.
    case malformedReply(address: ServerAddress, description: String)
    /// The pinned connection the command had to run on is gone; it was not sent elsewhere.
    case pinnedConnectionLost(command: String, address: ServerAddress, reason: String)
    /// The client was shut down.
    case shutDown

    public var description: String {
        switch self {
        case .noSentinelReachable(let name, let attempts):
            return "no sentinel reachable for master '\(name)'; tried \(Self.list(attempts))."
                + " Check the -s addresses and that redis-sentinel runs there."
        case .unknownMasterName(let name, let attempts):
            return "no sentinel knows a master named '\(name)'; tried \(Self.list(attempts))."
                + " Check the name (SENTINEL MASTERS lists the monitored ones)."
        case .sentinelAuthenticationFailed(let name, let attempts):
            return "sentinels refused our credentials while looking up '\(name)'; tried \(Self.list(attempts))."
                + " Check --sentinel-user/--sentinel-pass."
        case .noVerifiedMaster(let name, let attempts):
            return "no reachable master for '\(name)'; tried \(Self.list(attempts))."
                + " A failover may be under way; retry in a few seconds."
        case .masterAuthenticationFailed(let address, let message):
            return "master \(address) refused the credentials (\(message)). Check --user/--pass."
        case .connectFailed(let address, let reason):
            return "could not connect to \(address): \(reason)"
        case .commandInDoubt(let command, let address, let reason):
            return "\(command) was sent to \(address) but no reply came (\(reason)): it may or may not have run"
        case .commandNotSent(let command, let address, let reason):
            return "\(command) was not sent to \(address) (\(reason)): it did not run"
        case .masterUnavailable(let name, let ms, let lastError):
            return "no master for '\(name)' after waiting \(ms) ms"
                + (lastError.map { " (last error: \($0))" } ?? "") + "; the command was not sent"
        case .malformedReply(let address, let description):
            return "\(address) sent a reply that is not valid RESP: \(description); the connection was closed"
        case .pinnedConnectionLost(let command, let address, let reason):
            return "\(command) was not sent: its connection to \(address) is gone (\(reason)),"
                + " and state kept on that connection (MULTI, WATCH) would be missing on another"
        case .shutDown:
            return "the client is shut down"
        }
    }

    /// True when the failed command certainly did not run on the server.
    public var certainlyNotRun: Bool {
        switch self {
        case .commandInDoubt, .malformedReply: return false
        default: return true
        }
    }

    private static func list(_ attempts: [DiscoveryAttempt]) -> String {
        attempts.isEmpty ? "nothing" : attempts.map(\.description).joined(separator: "; ")
    }
}
