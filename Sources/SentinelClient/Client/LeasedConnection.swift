/// A connection taken from the pool; give it back with `SentinelClient.release`.
public struct LeasedConnection: Sendable {
    public let connection: RedisConnection
    /// The pool generation it was leased in; `SentinelClient.isUsable(_:)` compares it.
    public let generation: Int
}
