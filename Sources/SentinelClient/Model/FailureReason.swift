import RESP

/// Why one try at one server failed, as shown to a person.
public enum FailureReason: Error, Sendable, Hashable, CustomStringConvertible {
    case connectionRefused
    case timedOut(milliseconds: Int)
    case authenticationFailed(String)
    case unknownMasterName
    case notAMaster(role: String)
    case notAHealthyReplica(role: String)
    case errorReply(String)
    case connectionLost(String)
    case malformedReply(String)
    case tls(TLSFailure)
    /// A sentinel address answered as a Redis or Valkey data node (`Redis 7.0.15`).
    case notASentinel(server: String)
    /// A sentinel address answered as a Cluster node (`redis_mode:cluster`).
    case clusterNode(server: String)
    /// A sentinel address answered with bytes that are not RESP (an HTTP server, say).
    case notRESP(String)
    /// An address Sentinel named failed while an address map is set and no entry covers it:
    /// most likely a private address that needs an entry (`natmap FROM=TO`).
    indirect case notInAddressMap(ServerAddress, FailureReason)
    case other(String)

    /// Escaped for printing (`Printable`): most reasons carry a server's words.
    public var description: String { Printable.escaped(text) }

    private var text: String {
        switch self {
        case .connectionRefused: return "connection refused"
        case .timedOut(let ms): return "no answer within \(ms) ms"
        case .authenticationFailed(let message): return "authentication failed (\(message))"
        case .unknownMasterName: return "does not know this master name"
        case .notAMaster(let role): return "address is not a master (ROLE says \(role))"
        case .notAHealthyReplica(let role): return "not a replica with its link to the master up (ROLE says \(role))"
        case .errorReply(let message): return "error reply: \(message)"
        case .connectionLost(let message): return "connection lost: \(message)"
        case .malformedReply(let message): return message
        case .tls(let failure): return failure.description
        case .notASentinel(let server): return "a \(server) server, not a sentinel"
        case .clusterNode(let server): return "a Cluster node (\(server)), not a sentinel"
        case .notRESP(let detail): return "does not speak RESP (\(detail)), so not a sentinel"
        case .notInAddressMap(let address, let reason):
            return "\(reason.text); no address map entry covers \(address): add natmap \(address)=HOST:PORT"
        case .other(let message): return message
        }
    }

    /// A Redis Cluster node (`redis_mode:cluster`) answered where a sentinel was expected.
    public var isClusterNode: Bool {
        if case .clusterNode = self { true } else { false }
    }

    /// The address answered, but as something other than a sentinel.
    var meansNotASentinel: Bool {
        switch self {
        case .notASentinel, .clusterNode, .notRESP: true
        default: false
        }
    }
}
