import NIOCore

/// Topology changes, for a user interface to show as they happen.
public enum TopologyEvent: Sendable, Hashable {
    case masterSwitched(from: ServerAddress?, to: ServerAddress)
    /// No verified master now. When Sentinel's failover is followed at once, a master that
    /// died may be reported as `commandsHeld(candidate:replacing:)` and then `masterSwitched`
    /// instead: a switch ends the check that would have found it unreachable.
    case masterUnreachable(ServerAddress?, reason: String)
    case masterReachable(ServerAddress)
    /// A sentinel announced that a failover started (`+try-failover`, `+odown`).
    case failoverStarted(master: ServerAddress?, reportedBy: ServerAddress)
    case sentinelDown(ServerAddress)
    case sentinelUp(ServerAddress)
    case sentinelLearned(ServerAddress)
    /// A Sentinel event about the master, its replicas or its sentinels, as published
    /// (`+sdown`, `+odown`, `+selected-slave`, `+switch-master`, ...); once, however
    /// many sentinels publish it.
    case sentinelEvent(SentinelEvent)
    /// Sentinel selected `candidate` to replace the master: new commands wait until ROLE
    /// on it says master (then `masterSwitched`), or the failover is abandoned.
    case commandsHeld(candidate: ServerAddress, replacing: ServerAddress)
    /// The hold ended without a promotion: commands go to `master` again.
    case holdReleased(master: ServerAddress, reason: String)
    /// The old master's replication stream, as last seen, ran `bytes` past the point
    /// where the new master was promoted (`second_repl_offset`): writes the old master
    /// acknowledged after it are not on the new master.
    case replicationGap(from: ServerAddress, to: ServerAddress, bytes: Int64)
    /// After an early switch to `early`, the sentinels named `named` instead (or `early`
    /// stopped being a master): writes sent to `early` since the switch may be lost.
    case earlySwitchOverruled(early: ServerAddress, named: ServerAddress?)
    /// The sentinels' stand on the master in use changed (from the periodic probe of all).
    case agreementChanged(SentinelAgreement)
}
