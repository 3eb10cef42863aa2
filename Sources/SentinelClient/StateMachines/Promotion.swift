import NIOCore

/// A failover of the master in use, as the client follows it: from Sentinel's choice
/// of a replica, commands are held (nothing more goes to the old master, whose writes
/// are discarded once the replica is promoted); when ROLE on the candidate says master
/// the client switches to it, ahead of `+switch-master`, and keeps it while the
/// sentinels still name the old master.
struct Promotion: Sendable, Equatable {
    enum Phase: Sendable, Equatable {
        case awaitingRole
        case switchedEarly(at: NIODeadline)
    }
    var old: ServerAddress
    var candidate: ServerAddress
    /// The sentinel that published the step (the failover's leader).
    var reportedBy: ServerAddress
    var since: NIODeadline
    var phase: Phase

    var holdsCommands: Bool { phase == .awaitingRole }
}

/// What a reconcile does with its result during an early switch.
enum PromotionDecision: Sendable, Equatable {
    /// As usual: no early switch pending, or the sentinels now name the early master.
    case apply
    /// The sentinels still name the old master (or none answered): the early master stays.
    case keepEarlyMaster
    /// The sentinels name a third master, or the early one stopped being master (or the
    /// grace ran out): follow the sentinels; writes since `since` may be lost.
    case overruled(early: ServerAddress, since: NIODeadline)
}
