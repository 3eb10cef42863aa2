/// The pool as it is now, for display and metrics.
public struct PoolSnapshot: Sendable, Hashable {
    public var master: ServerAddress?
    public var generation: Int
    public var idle: Int
    public var leased: Int
    public var dialling: Int
    public var maxSize: Int
    public var dialledTotal: Int
    public var closedTotal: Int
    public var waiting: Int
    public var lastError: String?
}
