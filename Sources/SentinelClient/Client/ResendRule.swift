import RESP

/// The one rule for sending a command again after it failed, for every path that
/// sends: `SentinelClient.execute`, reads on a replica, and a REPL's pipeline.
///
/// A command that was not written (`commandNotSent`, no master, cancelled before the
/// write) certainly did not run, and goes again. One that was written and got no
/// reply (`commandInDoubt`, a malformed reply) may have run: only a read-only command
/// goes again. A command pinned to its connection (a MULTI or WATCH block lives there)
/// never goes anywhere else.
public enum ResendRule {
    public enum Verdict: Sendable, Equatable {
        case resend
        /// It may have run: resend only when it is read-only (`SentinelClient.isReadOnly`).
        case ifReadOnly
        case never
    }

    /// What may be done with a command whose send failed with `error`.
    public static func after(_ error: SentinelClientError, pinned: Bool) -> Verdict {
        guard !pinned else { return .never }
        if error.certainlyNotRun { return .resend }
        return error.code == .commandInDoubt ? .ifReadOnly : .never
    }

    /// Whether a reply is a demoted master's refusal of a write (`READONLY`): it did not
    /// run, and goes again to the new master. Inside a pinned block the refusal stands
    /// (EXEC will abort the transaction).
    public static func refusedByDemotedMaster(_ reply: RESPValue, pinned: Bool) -> Bool {
        !pinned && reply.errorCode == "READONLY"
    }
}
