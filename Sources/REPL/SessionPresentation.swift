import RESP
import SentinelClient

/// How the session looks on the terminal: the prompt, the notice for each topology
/// event, streamed messages. Pure functions of values, so that what a person sees is
/// built from one snapshot and tested without a terminal.
struct SessionPresentation: Sendable {
    let masterName: String
    /// A named deployment's label, before everything else.
    var label: PromptLabel?

    init(masterName: String, label: PromptLabel? = nil) {
        self.masterName = masterName
        self.label = label
    }

    /// `[prod] mymaster@127.0.0.1:6379[2](TX) (failover) (2/3 sentinels)> `, or the replica session's.
    func prompt(
        topology: TopologySnapshot, connection: ConnectionState, target: SessionTarget, replica: ServerAddress?,
        failoverUnderWay: Bool
    ) -> String {
        let text = unlabelledPrompt(
            topology: topology, connection: connection, target: target, replica: replica, failoverUnderWay: failoverUnderWay)
        return (label?.prefix ?? "") + text
    }

    private func unlabelledPrompt(
        topology: TopologySnapshot, connection: ConnectionState, target: SessionTarget, replica: ServerAddress?,
        failoverUnderWay: Bool
    ) -> String {
        let db = connection.database != 0 ? "[\(connection.database)]" : ""
        let tx = connection.inTransaction ? "(TX)" : ""
        if target == .replica {
            guard let replica else { return "\(masterName)@(no replica)> " }
            return "\(masterName)@\(replica)\(db)\(tx) (replica)> "
        }
        guard topology.isMasterReachable, let master = topology.master else { return "\(masterName)@(no master)> " }
        let failover = failoverUnderWay ? " (failover)" : ""
        let agreement = topology.sentinelAgreement.flatMap(Self.agreementMark) ?? ""
        return "\(masterName)@\(master.address)\(db)\(tx)\(failover)\(agreement)> "
    }

    /// ` (2/3 sentinels)` when some sentinel does not answer, ` (sentinels disagree)` when
    /// one names another master; nothing while they all agree.
    static func agreementMark(_ agreement: SentinelAgreement) -> String? {
        if agreement.isFull { return nil }
        return agreement.dissenting.isEmpty ? " (\(agreement.agreeing)/\(agreement.known) sentinels)" : " (sentinels disagree)"
    }

    /// The line shown for a topology event, or nil (Sentinel's own events only with `:events on`).
    func notice(for event: TopologyEvent, eventsShown: Bool) -> String? {
        switch event {
        case .sentinelEvent(let event): return eventsShown ? "-- \(event)" : nil
        case .masterSwitched(nil, _): return nil
        case .masterSwitched(.some(let from), let to):
            return "-- failover: master of \(masterName) moved from \(from) to \(to)"
        case .masterUnreachable(let address, let reason):
            return "-- master \(address.map { "\($0)" } ?? "") unreachable (\(reason)); waiting for Sentinel"
        case .masterReachable(let address): return "-- master \(address) reachable again"
        case .failoverStarted(let master, let sentinel):
            return "-- sentinel \(sentinel) reports a failover of \(master.map { "\($0)" } ?? masterName) under way"
        case .sentinelDown(let address): return "-- sentinel \(address) is down"
        case .sentinelUp(let address): return "-- sentinel \(address) is up"
        case .sentinelLearned(let address): return "-- learned of sentinel \(address)"
        case .commandsHeld(let candidate, let master):
            return "-- Sentinel selected \(candidate) to replace \(master): commands wait until ROLE on it says master"
        case .holdReleased(let master, let reason):
            return "-- no promotion (\(reason)): commands go to \(master) again"
        case .replicationGap(let from, let to, let bytes):
            return "-- \(from) had \(bytes) bytes of writes past the point where \(to) was promoted: they are lost"
        case .agreementChanged(let agreement):
            let unreachable = agreement.unreachable.isEmpty ? "" : "; not answering: " + agreement.unreachable.map(\.description).joined(separator: ", ")
            let dissenting = agreement.dissenting.isEmpty ? "" : "; naming another master: " + agreement.dissenting.map(\.description).joined(separator: ", ")
            return "-- \(agreement)\(unreachable)\(dissenting)\(agreement.isFull ? "" : " (:sentinels shows who says what)")"
        case .earlySwitchOverruled(let early, let named):
            let sentinels = named.map { "the sentinels name \($0)" } ?? "no sentinel names a master"
            return "-- \(sentinels), not \(early) (promoted and used since Sentinel selected it): writes sent there may be lost"
        }
    }

    /// `slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster ...`: the replica's host and port.
    static func replicaAddress(inEventPayload payload: String) -> ServerAddress? {
        let words = payload.split(separator: " ")
        guard words.count >= 4, let port = Int(words[3]) else { return nil }
        return ServerAddress(host: String(words[2]), port: port)
    }

    /// A message of SUBSCRIBE or MONITOR, as redis-cli prints it.
    static func renderStreamed(_ message: RESPValue, mode: ReplyRenderer.Mode) -> [UInt8] {
        if case .simpleString(let text) = message {
            // MONITOR lines are status replies printed as they are.
            return Array(text.readableBytesView) + [10]
        }
        return ReplyRenderer.render(message, mode: mode)
    }

    static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
