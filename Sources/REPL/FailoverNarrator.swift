import SentinelClient

/// Sentinel's events told as an operator reads them at 3 a.m.: each step of a failover
/// once, in plain words (down, started, replica chosen, promoted, switched, old master
/// back as a replica), however many sentinels publish it and however far apart. The
/// internal steps (`+elected-leader`, `+failover-state-*`, `-role-change` about the
/// demoted master, `+slave` listings) stay out unless the raw events are asked for.
/// A plain value: the session feeds it events and prints the lines it returns.
package struct FailoverNarrator: Sendable {
    package enum Style: String, Sendable {
        /// Plain words, each failover step once (the default).
        case plain
        /// Sentinel's own messages, as published (`:events raw`, `--verbose`).
        case raw
        /// Only the session's own notices (the switch, commands held, lost state).
        case off
    }

    enum Step: Hashable, Sendable {
        case suspected, down, started, chosen, promoted, switched, rejoined
        /// Steps that open a failover: after a switch, one of them starts the next.
        var opens: Bool { [.suspected, .down, .started, .chosen].contains(self) }
    }

    var style: Style
    let presentation: SessionPresentation
    private var told: Set<Step> = []
    /// The last switch: the old master's rejoining is told about that address.
    private var switched: (from: ServerAddress, to: ServerAddress)?
    /// Told down: only these are told back (Valkey clears an `sdown` it never published).
    private var toldDown: Set<ServerAddress> = []

    init(style: Style, presentation: SessionPresentation) {
        self.style = style
        self.presentation = presentation
    }

    /// The lines to show for `event` (none, one, rarely two).
    mutating func notices(for event: TopologyEvent) -> [String] {
        switch style {
        case .raw: return [presentation.notice(for: event, eventsShown: true)].compactMap { $0 }
        case .off: return [presentation.notice(for: event, eventsShown: false)].compactMap { $0 }
        case .plain: return plainNotices(for: event)
        }
    }

    private mutating func plainNotices(for event: TopologyEvent) -> [String] {
        let name = presentation.masterName
        switch event {
        case .sentinelEvent(let event):
            return sentinelNotice(event).map { [$0] } ?? []
        case .failoverStarted(let master, _):
            return tell(.started, "-- failover of \(name) started: Sentinel replaces \(master.map { "\($0)" } ?? "its master")")
        case .commandsHeld(let candidate, let master):
            return tell(.chosen, "-- Sentinel chose replica \(candidate) to replace \(master); commands wait until it is promoted")
        case .masterSwitched(let from?, let to):
            // The same switch heard again is old news; another one (overruled, or events
            // missed while reconnecting) is told whatever came before.
            if let switched, switched == (from, to) { return [] }
            if told.contains(.switched) { told = [] }
            switched = (from, to)
            // The client switches as soon as ROLE says master, often before `+promoted-slave`.
            let promoted = tell(.promoted, "-- replica \(to) is promoted to master")
            return promoted + tell(.switched, presentation.notice(for: event, eventsShown: false) ?? "")
        case .holdReleased:
            told = []  // no promotion: the next attempt is told from its start
            return [presentation.notice(for: event, eventsShown: false)].compactMap { $0 }
        default:
            return [presentation.notice(for: event, eventsShown: false)].compactMap { $0 }
        }
    }

    /// Sentinel's message as a step of the failover, a plain line of its own, or nothing.
    private mutating func sentinelNotice(_ event: SentinelEvent) -> String? {
        let words = event.payload.split(separator: " ")
        let kind = words.first.map(String.init) ?? ""
        let instance = Self.address(words, at: 2)
        let master = words.firstIndex(of: "@").flatMap { Self.address(words, at: $0 + 2) }
        let name = presentation.masterName
        switch (event.channel, kind) {
        case ("+sdown", "master"):
            instance.map { _ = toldDown.insert($0) }
            return tell(.suspected, "-- sentinel \(event.reportedBy) cannot reach master \(show(instance))").first
        case ("+odown", "master"):
            instance.map { _ = toldDown.insert($0) }
            return tell(.down, "-- master \(show(instance)) is down: the sentinels agree").first
        case ("-sdown", "master"), ("-odown", "master"):
            guard let instance, toldDown.remove(instance) != nil else { return nil }
            told = []  // a blip, over: the next trouble is told from its start
            return "-- master \(instance) answers again"
        case let (channel, _) where channel.hasPrefix("-failover-abort-"):
            told = []
            return "-- Sentinel gave up this failover of \(name): \(Self.abortReason(channel))"
        case ("+try-failover", "master"):
            return tell(.started, "-- failover of \(name) started: Sentinel replaces \(show(instance))").first
        case ("+selected-slave", _):
            return tell(.chosen, "-- Sentinel chose replica \(show(instance)) to replace \(show(master))").first
        case ("+promoted-slave", _):
            return tell(.promoted, "-- replica \(show(instance)) is promoted to master").first
        case ("+convert-to-slave", _), ("+role-change", "slave"):
            // The demoted master's `+role-change ... role is master` is old news, not a second master.
            let nowReplica = event.channel == "+convert-to-slave" || event.payload.hasSuffix("role is slave")
            guard nowReplica, let switched, instance == switched.from else { return nil }
            return tell(.rejoined, "-- the old master \(switched.from) is back, as a replica of \(show(master))").first
        case ("+sdown", "slave"):
            guard let instance, toldDown.insert(instance).inserted else { return nil }
            return "-- replica \(instance) is down"
        case ("-sdown", "slave"):
            guard let instance, toldDown.remove(instance) != nil else { return nil }
            return "-- replica \(instance) answers again"
        case ("+reboot", _): return "-- \(kind == "master" ? "master" : "replica") \(show(instance)) restarted"
        case ("+tilt", _): return "-- sentinel \(event.reportedBy) entered TILT mode (its clock or load is off): it takes no action until it leaves"
        case ("-tilt", _): return "-- sentinel \(event.reportedBy) left TILT mode"
        default: return nil
        }
    }

    /// `line` the first time `step` happens in this failover; a step that opens a failover
    /// after a switch starts the next one.
    private mutating func tell(_ step: Step, _ line: String) -> [String] {
        if step.opens, told.contains(.switched) {
            told = []
        }
        guard !line.isEmpty, told.insert(step).inserted else { return [] }
        return [line]
    }

    /// `-failover-abort-no-good-slave` and the rest, in plain words.
    static func abortReason(_ channel: String) -> String {
        switch channel {
        case "-failover-abort-not-elected": return "no sentinel was elected to lead it"
        case "-failover-abort-no-good-slave": return "no replica is fit to promote"
        case "-failover-abort-slave-timeout": return "the chosen replica did not take over in time"
        case "-failover-abort-x-sdown": return "the master answers again"
        default: return String(channel.dropFirst("-failover-abort-".count))
        }
    }

    /// `IP PORT` at `index` of a payload's words.
    private static func address(_ words: [Substring], at index: Int) -> ServerAddress? {
        guard words.count > index + 1, let port = Int(words[index + 1]) else { return nil }
        return ServerAddress(host: String(words[index]), port: port)
    }

    private func show(_ address: ServerAddress?) -> String { address.map { "\($0)" } ?? "?" }
}
