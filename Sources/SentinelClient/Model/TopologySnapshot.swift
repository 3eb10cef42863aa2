/// What the client knows of the topology at one moment, read in one call, so that
/// its parts (a prompt's master, reachability and agreement) agree with each other.
public struct TopologySnapshot: Sendable, Hashable {
    public var master: MasterInfo?
    /// False from a failed check of the master until one succeeds again.
    public var isMasterReachable: Bool
    /// The sentinels' stand on the master in use, as of the last probe of them all.
    public var sentinelAgreement: SentinelAgreement?
    public var failoversFollowed: Int
}
