/// `SENTINEL CKQUORUM` as one sentinel answered it: whether the sentinels watching the
/// master can reach the quorum and a majority to authorize a failover, and Sentinel's own words.
public struct QuorumVerdict: Sendable, Hashable, CustomStringConvertible {
    /// The sentinel that answered.
    public var sentinel: ServerAddress
    /// True for an `OK ...` reply; false for `NOQUORUM ...` (or any error reply).
    public var reached: Bool
    /// Sentinel's reply as it gave it (`OK 3 usable Sentinels. Quorum and failover authorization can be reached`).
    public var message: String

    public init(sentinel: ServerAddress, reached: Bool, message: String) {
        self.sentinel = sentinel
        self.reached = reached
        self.message = message
    }

    /// `OK 3 usable Sentinels. ... (asked 127.0.0.1:26379)`
    public var description: String { "\(message) (asked \(sentinel))" }
}
