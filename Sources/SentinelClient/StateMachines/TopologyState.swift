import NIOCore

/// What the client knows of the topology, as a plain state machine: sentinel
/// answers, verified masters, failures and watcher links go in; the events to
/// publish come out. The client actor owns it and performs nothing else here.
struct TopologyState: Sendable {
    let masterName: String
    /// In the order to ask them: the last one that answered first.
    private(set) var sentinels: [SentinelInfo]
    private(set) var master: MasterInfo?
    /// False from a failed check of the master until one succeeds again.
    private(set) var masterReachable = true
    private(set) var failovers = 0
    /// The master the last failover replaced: replicas still follow it until Sentinel
    /// reconfigures them, so they stay usable meanwhile.
    private(set) var replacedMaster: ServerAddress?
    /// The failed tries of the last successful discovery.
    private(set) var discoveryAttempts: [DiscoveryAttempt] = []
    /// A failover of the master under way, followed from Sentinel's events (see `Promotion`).
    private(set) var promotion: Promotion?
    /// The sentinels' stand on the master, from the last probe of them all.
    private(set) var agreement: SentinelAgreement?
    /// The master moved or an early switch was confirmed since that probe: probe again.
    private(set) var agreementStale = false
    /// Sentinels that other sentinels report down (`+sdown sentinel ...`).
    private var reportedDown: Set<ServerAddress> = []
    /// A failover of a master the client does not use yet (its view lags one failover
    /// behind): held as a promotion should that master be verified within `selectionLifetime`.
    private(set) var pendingSelection: Promotion?
    private let selectionLifetime: TimeAmount

    /// Where announced addresses are dialled (`--natmap`): a sentinel learned at an address
    /// the map sends to one already known is that sentinel, not another.
    private let addressMap: AddressMap

    init(masterName: String, sentinels: [ServerAddress], selectionLifetime: TimeAmount = .seconds(5), addressMap: AddressMap = AddressMap()) {
        self.masterName = masterName
        self.addressMap = addressMap
        self.selectionLifetime = selectionLifetime
        self.sentinels = sentinels.map { SentinelInfo(address: $0, origin: .configured, subscribed: false) }
    }

    /// One step of a discovery: a sentinel answered, or a try failed.
    mutating func observe(_ attempt: DiscoveryAttempt?, _ answer: SentinelAnswer?) -> [TopologyEvent] {
        var events: [TopologyEvent] = []
        if let answer, let index = index(of: answer.sentinel) {
            sentinels[index].reachable = true
            sentinels[index].latencyMicroseconds = answer.latencyMicroseconds
            sentinels[index].namedMaster = answer.master
            sentinels[index].lastError = nil
            for other in answer.otherSentinels { events += learn(other) }
        }
        if let attempt, let index = index(of: attempt.sentinel) {
            sentinels[index].lastError = attempt.description
            // A sentinel that said it does not know the name did answer.
            if attempt.namedMaster == nil, attempt.reason != .unknownMasterName {
                sentinels[index].reachable = false
            }
        }
        return events
    }

    /// A sentinel named in an answer or a `+sentinel` message.
    mutating func learn(_ sentinel: ServerAddress) -> [TopologyEvent] {
        let dialled = addressMap.dialled(sentinel)
        guard index(of: sentinel) == nil, !sentinels.contains(where: { dialTarget(of: $0) == dialled }) else { return [] }
        sentinels.append(SentinelInfo(address: sentinel, origin: .learned, subscribed: false))
        return [.sentinelLearned(sentinel)]
    }

    /// Configured sentinels are dialled as given, learned ones through the map.
    private func dialTarget(of sentinel: SentinelInfo) -> ServerAddress {
        sentinel.origin == .configured ? sentinel.address : addressMap.dialled(sentinel.address)
    }

    /// Sentinel named `address` and ROLE confirmed it.
    mutating func verified(
        _ address: ServerAddress, answeredBy sentinel: ServerAddress, role: MasterRole,
        attempts: [DiscoveryAttempt], at now: NIODeadline
    ) -> [TopologyEvent] {
        discoveryAttempts = attempts
        if let promotion, promotion.holdsCommands, address == promotion.candidate { self.promotion = nil }
        if let index = index(of: sentinel), index > 0 { sentinels.insert(sentinels.remove(at: index), at: 0) }
        let previous = master?.address
        let moved = previous != address
        master = MasterInfo(
            name: masterName, address: address, answeredBy: sentinel, replicationOffset: role.replicationOffset,
            connectedReplicas: role.replicas, knownSince: moved ? now : master?.knownSince ?? now, verifiedAt: now)
        let wasReachable = masterReachable
        masterReachable = true
        if moved {
            agreementStale = agreement != nil
            if previous != nil { failovers += 1 }
            replacedMaster = previous
            return [.masterSwitched(from: previous, to: address)] + holdPendingSelection(of: address, at: now)
        }
        return wasReachable ? [] : [.masterReachable(address)]
    }

    /// The new master is already being failed over: its commands are held from the start.
    private mutating func holdPendingSelection(of address: ServerAddress, at now: NIODeadline) -> [TopologyEvent] {
        defer { pendingSelection = nil }
        guard promotion == nil, let pending = pendingSelection, pending.old == address, pending.candidate != address,
            isFresh(pending, at: now)
        else { return [] }
        promotion = pending
        return [.commandsHeld(candidate: pending.candidate, replacing: address)]
    }

    /// Whether a failed reconcile leaves the master as it is: when no sentinel answered
    /// (the master may be fine), or when the sentinels still name it and it only was
    /// slow to answer ROLE (a long script or `DEBUG SLEEP` keeps Redis from answering;
    /// that is not a failure, and Sentinel fails over a master that is really gone).
    func keepsMaster(after error: SentinelClientError) -> Bool {
        guard let master = master?.address else { return false }
        if error.code == .noSentinelReachable { return true }
        let checked = error.attempts.filter { $0.namedMaster != nil }
        return error.code == .noVerifiedMaster && !checked.isEmpty
            && checked.allSatisfy { attempt in
                if case .timedOut = attempt.reason { return attempt.namedMaster == master }
                return false
            }
    }

    /// No verified master now: the event only on the first failure in a row.
    mutating func unreachable(_ reason: String) -> [TopologyEvent] {
        guard masterReachable else { return [] }
        masterReachable = false
        return [.masterUnreachable(master?.address, reason: reason)]
    }

    /// A watcher's link to `sentinel` came up or went down (`SentinelWatchers` keeps the link).
    mutating func linkChanged(_ sentinel: ServerAddress, up: Bool) {
        if let index = index(of: sentinel) { sentinels[index].reachable = up }
    }

    /// Another sentinel reports `sentinel` down or up: news once, however many report it.
    mutating func sentinelReported(_ sentinel: ServerAddress, down: Bool) -> [TopologyEvent] {
        let changed = down ? reportedDown.insert(sentinel).inserted : reportedDown.remove(sentinel) != nil
        guard changed else { return [] }
        return [down ? .sentinelDown(sentinel) : .sentinelUp(sentinel)]
    }

    /// Every known sentinel was asked: who answered, and which master each named.
    /// The event when the agreement on the master in use changed.
    mutating func probed(_ probes: [SentinelProbe]) -> [TopologyEvent] {
        for probe in probes {
            guard let index = index(of: probe.address) else { continue }
            sentinels[index].reachable = probe.reachable
            if probe.reachable {
                sentinels[index].namedMaster = probe.namedMaster
                sentinels[index].latencyMicroseconds = probe.latencyMicroseconds
            }
            sentinels[index].lastError = probe.error
        }
        guard let master = master?.address else { return [] }
        let now = SentinelAgreement(
            known: probes.count, agreeing: probes.count { $0.reachable && $0.namedMaster == master },
            unreachable: probes.filter { !$0.reachable }.map(\.address),
            dissenting: probes.filter { $0.reachable && $0.namedMaster != master }.map(\.address))
        defer {
            agreement = now
            agreementStale = false
        }
        // The first probe is news only when it finds something wrong.
        return now == agreement || (agreement == nil && now.isFull) ? [] : [.agreementChanged(now)]
    }

    // MARK: Following a promotion

    /// Sentinel chose `candidate` to replace `master` (`+selected-slave`, or a later step
    /// of the same failover when that event was missed). True when this starts a hold:
    /// only for the master in use, and only once per failover. About a master the client
    /// neither uses nor left, it is kept for a while (`pendingSelection`): a client whose
    /// switch to that master is still to come holds its commands from the switch on.
    mutating func replicaSelected(
        _ candidate: ServerAddress, replacing master: ServerAddress, reportedBy sentinel: ServerAddress,
        at now: NIODeadline
    ) -> Bool {
        guard candidate != master else { return false }
        let selection = Promotion(old: master, candidate: candidate, reportedBy: sentinel, since: now, phase: .awaitingRole)
        guard master == self.master?.address else {
            // A late step of a failover already followed is about the master it replaced.
            if master != replacedMaster, !isPending(selection, at: now) { pendingSelection = selection }
            return false
        }
        // A new failover may start while the sentinels still confirm an early switch.
        guard promotion?.holdsCommands != true, promotion?.candidate != candidate else { return false }
        promotion = selection
        return true
    }

    /// The same failover is pending already (a later step of it, or another sentinel's report).
    private func isPending(_ selection: Promotion, at now: NIODeadline) -> Bool {
        guard let pending = pendingSelection else { return false }
        return pending.old == selection.old && pending.candidate == selection.candidate && isFresh(pending, at: now)
    }

    private func isFresh(_ selection: Promotion, at now: NIODeadline) -> Bool {
        now - selection.since < selectionLifetime
    }

    /// The master's replication offset as ROLE reported it just now.
    mutating func sampled(offset: Int64, of address: ServerAddress) {
        if master?.address == address { master?.replicationOffset = offset }
    }

    /// ROLE on the candidate said master: the client switched to it ahead of Sentinel.
    mutating func promotedEarly(at now: NIODeadline) {
        promotion?.phase = .switchedEarly(at: now)
    }

    /// The hold ended without a promotion (Sentinel aborted, or the wait ran out).
    mutating func promotionAbandoned() {
        if promotion?.holdsCommands == true { promotion = nil }
    }

    /// What a reconcile that found `named` (verified by ROLE; nil when none was) does
    /// while an early switch waits for the sentinels to agree.
    mutating func decide(named: ServerAddress?, earlyMasterStillMaster: Bool, at now: NIODeadline, grace: TimeAmount)
        -> PromotionDecision
    {
        guard let promotion, case .switchedEarly(let switchedAt) = promotion.phase else { return .apply }
        if named == promotion.candidate {
            self.promotion = nil
            agreementStale = agreement != nil
            return .apply
        }
        let sentinelsLag = named == nil || named == promotion.old
        if sentinelsLag, earlyMasterStillMaster, now - switchedAt < grace { return .keepEarlyMaster }
        self.promotion = nil
        // The sentinels name another master, or the early one is no longer a master.
        return .overruled(early: promotion.candidate, since: switchedAt)
    }

    private func index(of sentinel: ServerAddress) -> Int? {
        sentinels.firstIndex { $0.address == sentinel }
    }
}
