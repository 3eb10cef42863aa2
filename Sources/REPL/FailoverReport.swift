import NIOCore
import SentinelClient

/// One failover as this session lived it, for the summary line after it: from the
/// first sign of trouble (a Sentinel `+sdown`, `+odown`, `+selected-slave` or
/// `+try-failover`, the master unreachable, a failed command) to the first command
/// that succeeds on the new master (or to the switch, when no command was waiting
/// then: an idle prompt's outage ends there, not when the person next types); how
/// many commands were in doubt meanwhile, and the bytes of writes lost, if any.
/// A plain value: the session feeds it and prints the line it returns.
struct FailoverReport: Sendable {
    private var troubleSince: NIODeadline?
    private var moved: (from: ServerAddress, to: ServerAddress)?
    /// When the last switch happened, if no command was waiting then.
    private var idleSwitchAt: NIODeadline?
    private var inDoubt = 0
    private var lostBytes: Int64 = 0
    /// Trouble with no failover after it for this long is forgotten.
    static let staleAfter = TimeAmount.seconds(120)

    /// The Sentinel channels that mean trouble for the master.
    static let troubleChannels: Set<String> = ["+sdown", "+odown", "+selected-slave", "+try-failover"]

    mutating func trouble(at now: NIODeadline) {
        if let since = troubleSince, moved == nil, now - since > Self.staleAfter { troubleSince = nil }
        if troubleSince == nil { troubleSince = now }
    }

    mutating func commandFailed(inDoubt: Bool, at now: NIODeadline) {
        trouble(at: now)
        if inDoubt { self.inDoubt += 1 }
    }

    mutating func masterMoved(from: ServerAddress, to: ServerAddress, at now: NIODeadline, commandsWaiting: Bool = true) {
        trouble(at: now)
        idleSwitchAt = commandsWaiting ? nil : now
        // Two failovers before any command succeeds: one outage, from the first master.
        moved = (moved?.from ?? from, to)
    }

    /// The old master's offset ran past the new master's promotion point.
    mutating func writesLost(bytes: Int64) {
        lostBytes += bytes
    }

    /// A failover happened and no reply has come since: the next one gets the summary.
    var awaitsFirstReply: Bool { moved != nil }

    /// The switch came with no command waiting: the summary line now (once), its outage
    /// ending at the switch.
    mutating func idleSwitchSummary() -> String? {
        guard let idleSwitchAt else { return nil }
        return commandSucceeded(at: idleSwitchAt)
    }

    /// A command succeeded: after a failover, the summary line (once).
    mutating func commandSucceeded(at now: NIODeadline) -> String? {
        guard let moved, let since = troubleSince else { return nil }
        defer { self = FailoverReport() }
        let end = idleSwitchAt ?? now
        let seconds = Double((end - since).nanoseconds) / 1e9
        let until = idleSwitchAt == nil ? "the first reply from the new master" : "the switch (no command was waiting)"
        return "-- failover summary: \(moved.from) -> \(moved.to), \(SessionPresentation.twoDecimals(seconds)) s from the first"
            + " sign of trouble to \(until), \(inDoubt) command(s) in doubt"
            + (lostBytes > 0 ? ", \(lostBytes) bytes of acknowledged writes lost" : "")
    }
}
