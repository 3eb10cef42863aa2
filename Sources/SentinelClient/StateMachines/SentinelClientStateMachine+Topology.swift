import NIOCore

/// The topology inputs: discovery steps and results, Sentinel's messages, watcher
/// links, agreement probes and the promotion a failover is followed through.
extension SentinelClientStateMachine {
    // MARK: Watchers

    /// The configured sentinels (then every learned one) get a watcher.
    mutating func watchKnownSentinels() -> [Action] {
        topology.sentinels.flatMap { watch($0.address) }
    }

    mutating func watch(_ sentinel: ServerAddress) -> [Action] {
        watchers.add(sentinel) ? [.watch(sentinel)] : []
    }

    /// A watcher dialled its sentinel: false when the client stops (the caller closes it).
    mutating func watcherConnected(_ sentinel: ServerAddress, _ connection: Connection) -> Bool {
        guard lifecycle == .running else { return false }
        watchers.connected(sentinel, connection)
        return true
    }

    /// A watcher's subscription came up, or its link went down (its connection is closed).
    mutating func watcherLink(_ sentinel: ServerAddress, subscribed: Bool) -> [Action] {
        let (event, close) = watchers.linkChanged(sentinel, subscribed: subscribed)
        topology.linkChanged(sentinel, up: subscribed)
        let closing: [Action] = close.map { [.close($0, reason: "watcher link lost")] } ?? []
        return closing + publishing(event.map { [$0] } ?? [])
    }

    /// Every known sentinel, with whether its watcher is subscribed now.
    var knownSentinels: [SentinelInfo] {
        topology.sentinels.map { info in
            var info = info
            info.subscribed = watchers.isSubscribed(info.address)
            return info
        }
    }

    // MARK: Discovery

    /// One step of a discovery: a sentinel answered, or a try failed.
    mutating func observe(_ attempt: DiscoveryAttempt?, _ answer: SentinelAnswer?) -> [Action] {
        publishing(topology.observe(attempt, answer))
    }

    /// Sentinel and ROLE agreed on `master` (on `connection`) in a run that began when
    /// `basedOn` was the master in use. A result older than an early switch made
    /// meanwhile is dropped and another run requested.
    mutating func discovered(
        _ master: ServerAddress, role: MasterRole, connection: Connection, answeredBy sentinel: ServerAddress,
        attempts: [DiscoveryAttempt], basedOn before: ServerAddress?, promotedAt: Int64?, now: NIODeadline
    ) -> [Action] {
        guard lifecycle == .running else { return [.close(connection, reason: "the client is shutting down")] }
        if let current = topology.master?.address, current != before, current != master {
            return [.close(connection, reason: "the master changed while the result was applied")]
                + requestReconcile(reason: "the master changed to \(current) during a reconcile", waiter: nil)
        }
        return install(master, role: role, connection: connection, answeredBy: sentinel, attempts: attempts, promotedAt: promotedAt, now: now)
    }

    /// A discovery run failed. The master stays when no sentinel answered, or when it was
    /// only slow to answer ROLE (`TopologyState.keepsMaster`); otherwise it is unreachable.
    mutating func discoveryFailed(_ error: SentinelClientError) -> (masterKept: Bool, [Action]) {
        guard lifecycle == .running else { return (true, []) }
        var actions = resolveFirstDiscovery(.failure(error))
        if topology.keepsMaster(after: error) { return (true, actions) }
        if servedMaster != nil {
            actions += poolActions(pool.masterLost(error.description))
        } else {
            pool.failed(error.description)
        }
        return (false, actions + publishing(topology.unreachable(error.description)))
    }

    /// A master verified by ROLE becomes the pool's: a new one closes every connection
    /// to the old one (what waits there fails in doubt now), and the replication offsets
    /// say whether writes the old one acknowledged missed the new one. One transition on
    /// purpose: between the topology, the pool and the hold nothing else may run.
    private mutating func install(
        _ master: ServerAddress, role: MasterRole, connection: Connection, answeredBy sentinel: ServerAddress,
        attempts: [DiscoveryAttempt], promotedAt: Int64?, now: NIODeadline
    ) -> [Action] {
        let previous = topology.master
        let moved = previous != nil && previous?.address != master
        let served = servedMaster
        let events = topology.verified(master, answeredBy: sentinel, role: role, attempts: attempts, at: now)
        var actions = served == master ? [] : poolActions(pool.masterChanged())
        actions += poolActions(pool.adopt(connection, generation: pool.generation))
        if moved, let previous {
            actions.append(.closeConnections(to: previous.address, reason: "the master moved to \(master)"))
        }
        actions += resumeHoldWaitersIfReleased()
        if let known = topology.master { actions += resolveFirstDiscovery(.success(known)) }
        // The gap first: a summary printed at the switch itself counts it.
        if moved, let previous, let promotedAt, previous.replicationOffset > promotedAt {
            let gap = previous.replicationOffset - promotedAt
            actions += publishing([.replicationGap(from: previous.address, to: master, bytes: gap)])
        }
        // The new master may be being failed over already (its `+selected-slave` came first).
        actions += publishing(events)
        return actions
    }

    /// Every known sentinel was asked: the agreement on the master, unless a promotion
    /// is followed meanwhile (the sentinels lag on purpose then).
    mutating func probed(_ probes: [SentinelProbe]) -> [Action] {
        guard lifecycle == .running, topology.promotion == nil else { return [] }
        return publishing(topology.probed(probes))
    }

    // MARK: Sentinel's messages

    /// A message a watcher received from `sentinel`.
    mutating func sentinelMessage(channel: String, payload: String, from sentinel: ServerAddress, now: NIODeadline) -> [Action] {
        var actions: [Action] = []
        if SentinelMessage.isAbout(masterName, payload: payload), shownEvents.isNew(channel: channel, payload: payload, at: now) {
            actions += publishing([.sentinelEvent(SentinelEvent(channel: channel, payload: payload, reportedBy: sentinel))])
        }
        guard let message = SentinelMessage.parse(channel: channel, payload: payload, masterName: masterName) else { return actions }
        switch message {
        case .masterSwitched:
            actions += requestReconcile(reason: "+switch-master from \(sentinel)", waiter: nil)
        case .failoverStarted(let master):
            // Once per failover of the master we use: several sentinels report it, some
            // only after the switch (then it is about a master we already left).
            if master == topology.master?.address, shownEvents.isNew(channel: "failover-started", payload: "\(master)", at: now) {
                actions += publishing([.failoverStarted(master: master, reportedBy: sentinel)])
            }
            actions += requestReconcile(reason: "\(channel) from \(sentinel)", waiter: nil)
        case .masterStateChanged(let channel):
            actions += requestReconcile(reason: "\(channel) from \(sentinel)", waiter: nil)
        case .sentinelDown(let address):
            actions += publishing(topology.sentinelReported(address, down: true))
        case .sentinelUp(let address):
            actions += publishing(topology.sentinelReported(address, down: false))
        case .sentinelAdded(let address):
            actions += publishing(topology.learn(address))
        case .replicaSelected(let candidate, let master):
            guard followPromotions, topology.replicaSelected(candidate, replacing: master, reportedBy: sentinel, at: now) else { break }
            actions += publishing([.commandsHeld(candidate: candidate, replacing: master)])
        case .failoverAborted:
            // Only the leader's abort ends the hold: another sentinel's
            // -failover-abort-not-elected is about its own, lost attempt.
            if topology.promotion?.reportedBy == sentinel { actions += releaseHold(reason: "\(channel) from \(sentinel)") }
            actions += requestReconcile(reason: "\(channel) from \(sentinel)", waiter: nil)
        }
        return actions
    }

    // MARK: Following a promotion

    /// The promotion to follow now, if commands are held for one.
    var heldPromotion: Promotion? {
        guard let promotion = topology.promotion, promotion.holdsCommands else { return nil }
        return promotion
    }

    /// Whether `promotion` is still the one followed (a follower checks before each step).
    func isFollowing(_ promotion: Promotion) -> Bool {
        lifecycle == .running && topology.promotion == promotion
    }

    /// ROLE on the candidate said master (on `connection`): it becomes the master in use,
    /// ahead of Sentinel, unless the promotion stopped being followed meanwhile.
    mutating func promotedEarly(
        _ promotion: Promotion, role: MasterRole, connection: Connection, promotedAt: Int64?, now: NIODeadline
    ) -> [Action] {
        guard isFollowing(promotion) else { return [.close(connection, reason: "the promotion is no longer followed")] }
        topology.promotedEarly(at: now)
        return install(
            promotion.candidate, role: role, connection: connection, answeredBy: promotion.reportedBy, attempts: [],
            promotedAt: promotedAt, now: now)
    }

    /// The old master's replication offset, sampled while commands are held; false when
    /// the promotion is no longer followed (sampling stops).
    mutating func sampled(offset: Int64, during promotion: Promotion) -> Bool {
        guard topology.promotion == promotion else { return false }
        topology.sampled(offset: offset, of: promotion.old)
        return true
    }

    /// The candidate did not report master in time: the hold ends, if it is still this one's.
    mutating func promotionTimedOut(_ promotion: Promotion, reason: String) -> [Action] {
        topology.promotion == promotion ? releaseHold(reason: reason) : []
    }

    /// Ends a hold without a promotion: the old master serves again.
    mutating func releaseHold(reason: String) -> [Action] {
        guard let promotion = topology.promotion, promotion.holdsCommands else { return [] }
        topology.promotionAbandoned()
        return publishing([.holdReleased(master: promotion.old, reason: reason)]) + resumeHoldWaitersIfReleased()
    }

    /// The candidate of an early switch that waits for the sentinels to agree, if any.
    var earlySwitchCandidate: ServerAddress? {
        guard let promotion = topology.promotion, case .switchedEarly = promotion.phase else { return nil }
        return promotion.candidate
    }

    /// After an early switch to `candidate`, whether a reconcile that found `named` (nil:
    /// none) keeps the early master (`TopologyState.decide`); an overruled switch is
    /// published. When the early switch changed while `candidate` was checked, the check
    /// is stale: the run's result is dropped (the master stays) and another run follows.
    mutating func earlyMasterStays(
        candidate: ServerAddress, named: ServerAddress?, stillMaster: Bool, now: NIODeadline, grace: TimeAmount
    ) -> (Bool, [Action]) {
        guard earlySwitchCandidate == candidate else {
            return (true, requestReconcile(reason: "the early switch changed while \(candidate) was checked", waiter: nil))
        }
        switch topology.decide(named: named, earlyMasterStillMaster: stillMaster, at: now, grace: grace) {
        case .apply: return (false, [])
        case .keepEarlyMaster: return (true, [])
        case .overruled(let early, _):
            return (false, publishing([.earlySwitchOverruled(early: early, named: named)]))
        }
    }

    private mutating func resumeHoldWaitersIfReleased() -> [Action] {
        guard topology.promotion?.holdsCommands != true else { return [] }
        return waiters.removeAll(.hold).map { .resume($0) }
    }
}
