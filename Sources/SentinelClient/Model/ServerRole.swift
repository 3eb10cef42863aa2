import Logging
import NIOCore
import RESP

/// `ROLE` as a master reports it.
public struct MasterRole: Sendable, Hashable {
    public var replicationOffset: Int64
    public var replicas: [ServerAddress]

    /// Parses a ROLE reply; returns the role's description as the error when it is not a master.
    static func parse(_ reply: RESPValue) -> Result<MasterRole, FailureReason> {
        switch ServerRole.parse(reply) {
        case .success(.master(let role)): return .success(role)
        case .success(.replica(let master, _, _)): return .failure(.notAMaster(role: "replica of \(master)"))
        case .success(.other(let name)): return .failure(.notAMaster(role: name))
        case .failure(let reason): return .failure(reason)
        }
    }
}

/// A server's ROLE reply, read in one place for every use.
public enum ServerRole: Sendable, Hashable, CustomStringConvertible {
    case master(MasterRole)
    /// A replica, its master, the replication link's state and its offset.
    case replica(of: ServerAddress, link: String, offset: Int64)
    /// A sentinel, or a role this client does not know.
    case other(String)

    public static func parse(_ reply: RESPValue) -> Result<ServerRole, FailureReason> {
        guard let items = reply.elements, let role = items.first?.string else {
            if let message = reply.errorMessage { return .failure(.errorReply(message)) }
            return .failure(.malformedReply("unexpected ROLE reply"))
        }
        func item(_ index: Int) -> RESPValue? { index < items.count ? items[index] : nil }
        switch role {
        case "master":
            let replicas: [ServerAddress] = (item(2)?.elements ?? []).compactMap { entry in
                guard let fields = entry.elements, fields.count >= 2, let host = fields[0].string,
                    let port = fields[1].integer
                else { return nil }
                return ServerAddress(host: host, port: Int(port))
            }
            return .success(.master(MasterRole(replicationOffset: item(1)?.integer ?? 0, replicas: replicas)))
        case "slave", "replica":
            guard let host = item(1)?.string, let port = item(2)?.integer else {
                return .failure(.malformedReply("ROLE names no master for a replica"))
            }
            return .success(
                .replica(
                    of: ServerAddress(host: host, port: Int(port)), link: item(3)?.string ?? "?",
                    offset: item(4)?.integer ?? 0))
        default:
            return .success(.other(role))
        }
    }

    /// `master, offset N, K connected replica(s) (a, b)` or `replica of H:P, link L, offset N`.
    public var description: String {
        switch self {
        case .master(let role):
            let listed = role.replicas.isEmpty ? "" : " (\(role.replicas.map(\.description).joined(separator: ", ")))"
            return "master, offset \(role.replicationOffset), \(role.replicas.count) connected replica(s)\(listed)"
        case .replica(let master, let link, let offset):
            return "replica of \(master), link \(link), offset \(offset)"
        case .other(let name):
            return name
        }
    }
}
