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
    /// The failed tries of the last successful discovery.
    private(set) var discoveryAttempts: [DiscoveryAttempt] = []
    /// Sentinels whose watcher link was lost: finding it again is news.
    private var lostLinks: Set<ServerAddress> = []

    init(masterName: String, sentinels: [ServerAddress]) {
        self.masterName = masterName
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
        guard index(of: sentinel) == nil else { return [] }
        sentinels.append(SentinelInfo(address: sentinel, origin: .learned, subscribed: false))
        return [.sentinelLearned(sentinel)]
    }

    /// Sentinel named `address` and ROLE confirmed it.
    mutating func verified(
        _ address: ServerAddress, answeredBy sentinel: ServerAddress, role: MasterRole,
        attempts: [DiscoveryAttempt], at now: NIODeadline
    ) -> [TopologyEvent] {
        discoveryAttempts = attempts
        if let index = index(of: sentinel), index > 0 { sentinels.insert(sentinels.remove(at: index), at: 0) }
        let previous = master?.address
        let moved = previous != address
        master = MasterInfo(
            name: masterName, address: address, answeredBy: sentinel, replicationOffset: role.replicationOffset,
            connectedReplicas: role.replicas, knownSince: moved ? now : master?.knownSince ?? now, verifiedAt: now)
        let wasReachable = masterReachable
        masterReachable = true
        if moved {
            if previous != nil { failovers += 1 }
            return [.masterSwitched(from: previous, to: address)]
        }
        return wasReachable ? [] : [.masterReachable(address)]
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

    /// A watcher's subscription came up or went down. The first one is no news; a
    /// link lost and found again is.
    mutating func linkChanged(_ sentinel: ServerAddress, subscribed: Bool) -> [TopologyEvent] {
        guard let index = index(of: sentinel) else { return [] }
        let was = sentinels[index].subscribed
        sentinels[index].subscribed = subscribed
        sentinels[index].reachable = subscribed
        defer { if subscribed { lostLinks.remove(sentinel) } else { lostLinks.insert(sentinel) } }
        guard was != subscribed, !subscribed || lostLinks.contains(sentinel) else { return [] }
        return [subscribed ? .sentinelUp(sentinel) : .sentinelDown(sentinel)]
    }

    private func index(of sentinel: ServerAddress) -> Int? {
        sentinels.firstIndex { $0.address == sentinel }
    }
}
