import NIOCore

public struct SentinelInfo: Sendable, Hashable {
    public enum Origin: String, Sendable { case configured, learned }
    public var address: ServerAddress
    public var origin: Origin
    public var reachable: Bool?
    public var latencyMicroseconds: Int?
    /// The master address this sentinel named at its last answer.
    public var namedMaster: ServerAddress?
    public var subscribed: Bool
    public var lastError: String?
}
