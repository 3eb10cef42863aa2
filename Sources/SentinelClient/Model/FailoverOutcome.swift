import NIOCore

/// How a coordinated failover went.
public struct FailoverOutcome: Sendable, Hashable {
    public var oldMaster: ServerAddress
    public var newMaster: ServerAddress
    public var method: FailoverPlan.Method
    /// How long writes were paused on the old master (`writePause`); nil when the
    /// server paused them itself (`sentinelCoordinated`).
    public var writesHeld: TimeAmount?
    /// The master's offset when writes stopped, and the promoted replica's when it was
    /// promoted: equal, or no acknowledged write was left behind.
    public var masterOffset: Int64?
    public var promotedOffset: Int64?
    /// From the request until the client serves commands on the new master.
    public var total: TimeAmount

    public init(
        oldMaster: ServerAddress, newMaster: ServerAddress, method: FailoverPlan.Method, writesHeld: TimeAmount? = nil,
        masterOffset: Int64? = nil, promotedOffset: Int64? = nil, total: TimeAmount
    ) {
        self.oldMaster = oldMaster
        self.newMaster = newMaster
        self.method = method
        self.writesHeld = writesHeld
        self.masterOffset = masterOffset
        self.promotedOffset = promotedOffset
        self.total = total
    }
}
