import NIOCore

/// One sentinel as asked just now.
public struct SentinelProbe: Sendable, Hashable {
    public var address: ServerAddress
    public var origin: SentinelInfo.Origin
    public var subscribed: Bool
    public var reachable = false
    public var latencyMicroseconds: Int?
    public var namedMaster: ServerAddress?
    public var error: String?
}
