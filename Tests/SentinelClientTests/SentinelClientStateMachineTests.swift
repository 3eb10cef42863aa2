import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import SentinelClient

/// A connection as the machine sees it: a name, an address, open or closed.
final class FakeLink: ManagedConnection, CustomStringConvertible {
    let name: String
    let address: ServerAddress
    private let open = NIOLockedValueBox(true)
    init(_ name: String, _ address: ServerAddress) {
        self.name = name
        self.address = address
    }
    var isActive: Bool { open.withLockedValue { $0 } }
    func close() { open.withLockedValue { $0 = false } }
    var description: String { name }
}

typealias Machine = SentinelClientStateMachine<FakeLink, String>

/// Each action as a short line, to compare whole lists.
func lines(_ actions: [Machine.Action]) -> [String] {
    actions.map { action in
        switch action {
        case .close(let connection, _): return "close \(connection)"
        case .closeConnections(let address, _): return "close all to \(address)"
        case .resume(let waiter): return "resume \(waiter)"
        case .publish(let event): return "publish \(event)"
        case .reconcileRequested(_, let startRun): return startRun ? "reconcile: start" : "reconcile: queued"
        case .followPromotion: return "follow promotion"
        case .watch(let sentinel): return "watch \(sentinel)"
        }
    }
}

/// Every transition of `SentinelClientStateMachine`, without I/O or a clock.
@Suite struct SentinelClientStateMachineTests {
    let s1 = ServerAddress(host: "127.0.0.1", port: 26379)
    let s2 = ServerAddress(host: "127.0.0.1", port: 26380)
    let s3 = ServerAddress(host: "127.0.0.1", port: 26381)
    let m1 = ServerAddress(host: "127.0.0.1", port: 6379)
    let m2 = ServerAddress(host: "127.0.0.1", port: 6380)
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000)

    func role(_ offset: Int64 = 10) -> MasterRole { MasterRole(replicationOffset: offset, replicas: []) }

    func machine(poolSize: Int = 2, watched: Int = 8, running: Bool = true) -> Machine {
        var configuration = SentinelClientConfiguration(sentinels: [s1, s2], masterName: "mymaster")
        configuration.poolSize = poolSize
        configuration.watchedSentinels = watched
        var machine = Machine(configuration: configuration, replicaTurn: 0)
        if running { #expect(machine.runCalled() == .run) }
        return machine
    }

    /// A machine whose master is `m1`, verified on connection `first`.
    func withMaster(poolSize: Int = 2) -> (Machine, FakeLink) {
        var machine = machine(poolSize: poolSize)
        let first = FakeLink("first", m1)
        _ = machine.discovered(m1, role: role(), connection: first, answeredBy: s1, attempts: [], basedOn: nil, promotedAt: nil, now: t0)
        return (machine, first)
    }

    func selected(_ candidate: ServerAddress, replacing master: ServerAddress) -> String {
        "slave \(candidate.host):\(candidate.port) \(candidate.host) \(candidate.port) @ mymaster \(master.host) \(master.port)"
    }

    // MARK: Lifecycle

    @Test func runOnceThenShutDownInOrder() {
        var machine = machine(running: false)
        #expect(machine.runCalled() == .run)
        #expect(machine.runCalled() == .alreadyRunning)
        #expect(machine.shutdownCalled() == .waitUntilStopped)
        #expect(lines(machine.awaitStopped("s")) == [])
        _ = machine.stopRequested()
        #expect(machine.lifecycle == .stopping)
        _ = machine.shutDown()
        #expect(lines(machine.stopped()) == ["resume s"])
        #expect(machine.shutdownCalled() == .alreadyStopped)
        #expect(lines(machine.awaitStopped("late")) == ["resume late"])
        #expect(machine.runCalled() == .returnAtOnce)
    }

    @Test func aShutdownBeforeRunIsDoneByTheCallerAndRunThenReturns() {
        var machine = machine(running: false)
        #expect(machine.shutdownCalled() == .shutDownHere)
        #expect(machine.runCalled() == .returnAtOnce)
        guard case .fail(let error) = machine.lease() else { Issue.record("a lease after shutdown"); return }
        #expect(error.code == .shutDown)
    }

    @Test func aLeaseBeforeRunFailsNotRunning() {
        var machine = machine(running: false)
        guard case .fail(let error) = machine.lease() else { Issue.record("a lease before run"); return }
        #expect(error.code == .notRunning)
    }

    @Test func theShutdownResumesEveryWaiterAndClosesTheIdlePool() {
        var (machine, first) = withMaster(poolSize: 1)
        // The pool holds `first` idle; a lease takes it, a second waits for a slot.
        guard case .use = machine.lease(), case .waitForSlot(let slot) = machine.lease() else {
            Issue.record("one lease, then a wait"); return
        }
        #expect(lines(machine.park(slot, for: .slot, "slot")) == [])
        #expect(lines(machine.awaitFirstDiscovery("discovery")) == ["resume discovery"], "known already")
        #expect(lines(machine.requestReconcile(reason: "x", waiter: "reconcile")) == ["reconcile: start"])
        #expect(lines(machine.release(first, healthy: true)) == ["resume slot"])
        let actions = lines(machine.shutDown())
        #expect(actions == ["resume reconcile", "close first"])
    }

    // MARK: First discovery

    @Test func theFirstDiscoveryIsResolvedOnceSuccessOrFailure() {
        var machine = machine()
        #expect(lines(machine.awaitFirstDiscovery("a")) == [])
        let error = SentinelClientError.noSentinelReachable(masterName: "mymaster", attempts: [])
        let (kept, actions) = machine.discoveryFailed(error)
        #expect(!kept)
        #expect(lines(actions).first == "resume a")
        #expect(machine.firstDiscoveryOutcome.failureCode == .noSentinelReachable)
        _ = machine.discovered(m1, role: role(), connection: FakeLink("c", m1), answeredBy: s1, attempts: [], basedOn: nil, promotedAt: nil, now: t0)
        #expect(machine.firstDiscoveryOutcome.failureCode == .noSentinelReachable, "the first outcome stands")
    }

    @Test func waitersForTheFirstDiscoveryLearnOfTheShutdown() {
        var machine = machine()
        #expect(lines(machine.awaitFirstDiscovery("a")) == [])
        #expect(lines(machine.shutDown()) == ["resume a"])
        #expect(machine.firstDiscoveryOutcome.failureCode == .shutDown)
    }

    // MARK: The pool and parked callers

    @Test func aLeaseDialsUsesWaitsAndIsWokenByARelease() {
        var machine = machine(poolSize: 1)
        guard case .noMaster = machine.lease() else { Issue.record("no master yet"); return }
        let (withMaster, first) = withMaster(poolSize: 1)
        machine = withMaster
        guard case .use(let connection, let generation) = machine.lease() else { Issue.record("the adopted connection"); return }
        #expect(connection === first && machine.isUsable(generation: generation, first))
        guard case .waitForSlot(let id) = machine.lease() else { Issue.record("at capacity"); return }
        // The wake comes before the caller parked: it is resumed as it parks.
        #expect(lines(machine.release(first, healthy: true)) == [])
        #expect(lines(machine.park(id, for: .slot, "late")) == ["resume late"])
        #expect(lines(machine.stopWaiting(id, for: .slot)) == [], "resumed once")
    }

    @Test func aDialLandsInUseInTheHoldsPoolOrClosed() {
        var (machine, first) = withMaster(poolSize: 4)
        guard case .use = machine.lease(), case .dial(let address, let generation) = machine.lease() else {
            Issue.record("use, then dial"); return
        }
        #expect(address == m1)
        let dialled = FakeLink("dialled", m1)
        #expect(machine.dialSucceeded(dialled, generation: generation).0 == .use)
        guard case .dial(_, let during) = machine.lease() else { Issue.record("dial"); return }
        _ = machine.sentinelMessage(channel: "+selected-slave", payload: selected(m2, replacing: m1), from: s1, now: t0)
        let (outcome, actions) = machine.dialSucceeded(FakeLink("held", m1), generation: during)
        #expect(outcome == .parkedForHold && actions.isEmpty, "kept idle in the pool")
        #expect(!machine.isUsable(generation: generation, first), "nothing is used while held")
        guard case .use(let idle, _) = machine.lease(), idle.name == "held", case .dial(_, let old) = machine.lease() else {
            Issue.record("the held connection, then a dial"); return
        }
        _ = machine.discovered(m2, role: role(), connection: FakeLink("new", m2), answeredBy: s1, attempts: [], basedOn: m1, promotedAt: nil, now: t0)
        let (late, closing) = machine.dialSucceeded(FakeLink("stale", m1), generation: old)
        #expect(late == .discarded && lines(closing) == ["close stale"])
        #expect(lines(machine.dialFailed("refused")) == [])
        #expect(machine.poolSnapshot.lastError == "refused")
    }

    @Test func aHoldParksCallersUntilTheSwitchAndResumesALateOneAtOnce() {
        var (machine, _) = withMaster()
        #expect(!machine.holdsCommands)
        #expect(lines(machine.park(machine.makeWaiterID(), for: .hold, "early")) == ["resume early"], "no hold")
        let held = machine.sentinelMessage(channel: "+selected-slave", payload: selected(m2, replacing: m1), from: s1, now: t0)
        #expect(lines(held).suffix(2) == ["publish commandsHeld(candidate: 127.0.0.1:6380, replacing: 127.0.0.1:6379)", "follow promotion"])
        #expect(machine.holdsCommands)
        let id = machine.makeWaiterID()
        #expect(lines(machine.park(id, for: .hold, "h")) == [])
        let actions = lines(machine.discovered(m2, role: role(), connection: FakeLink("new", m2), answeredBy: s1, attempts: [], basedOn: m1, promotedAt: nil, now: t0))
        #expect(actions.contains("resume h") && actions.contains("close all to 127.0.0.1:6379"))
        #expect(lines(machine.stopWaiting(id, for: .hold)) == [], "resumed once")
    }

    @Test func aParkedCallerThatGivesUpIsResumedAndLeavesThePool() {
        var (machine, _) = withMaster(poolSize: 1)
        guard case .use = machine.lease(), case .waitForSlot(let id) = machine.lease() else { Issue.record("wait"); return }
        _ = machine.park(id, for: .slot, "w")
        #expect(machine.poolSnapshot.waiting == 1)
        #expect(lines(machine.stopWaiting(id, for: .slot)) == ["resume w"])
        #expect(machine.poolSnapshot.waiting == 0)
    }

    // MARK: Discovery results

    @Test func aSwitchClosesTheOldMastersConnectionsAndNamesAReplicationGap() {
        var (machine, _) = withMaster()
        let actions = lines(machine.discovered(m2, role: role(), connection: FakeLink("new", m2), answeredBy: s2, attempts: [], basedOn: m1, promotedAt: 4, now: t0))
        #expect(actions.contains("close first"))
        #expect(actions.contains("close all to 127.0.0.1:6379"))
        let switched = actions.firstIndex(of: "publish masterSwitched(from: Optional(127.0.0.1:6379), to: 127.0.0.1:6380)")
        let gap = actions.firstIndex(of: "publish replicationGap(from: 127.0.0.1:6379, to: 127.0.0.1:6380, bytes: 6)")
        #expect(switched != nil && gap != nil && gap! < switched!, "the gap before the switch (a summary at the switch counts it): \(actions)")
        #expect(machine.servedMaster == m2 && machine.topology.failovers == 1)
    }

    @Test func theSameMasterKeepsItsGenerationAndOneFoundAgainStartsANewOne() {
        var (machine, _) = withMaster()
        let generation = machine.pool.generation
        _ = machine.discovered(m1, role: role(), connection: FakeLink("again", m1), answeredBy: s2, attempts: [], basedOn: m1, promotedAt: nil, now: t0)
        #expect(machine.pool.generation == generation)
        let refused = SentinelClientError.noVerifiedMaster(
            masterName: "mymaster", attempts: [DiscoveryAttempt(sentinel: s1, namedMaster: m1, reason: .connectionRefused)])
        _ = machine.discoveryFailed(refused)
        #expect(machine.servedMaster == nil && machine.poolSnapshot.master == nil)
        _ = machine.discoveryFailed(refused)
        #expect(machine.pool.generation == generation + 1, "lost once")
        _ = machine.discovered(m1, role: role(), connection: FakeLink("found", m1), answeredBy: s1, attempts: [], basedOn: m1, promotedAt: nil, now: t0)
        #expect(machine.pool.generation == generation + 2 && machine.servedMaster == m1)
    }

    @Test func aResultOlderThanAnEarlySwitchIsDroppedAndAnotherRunAsked() {
        var (machine, _) = withMaster()
        let m3 = ServerAddress(host: "127.0.0.1", port: 6381)
        _ = machine.requestReconcile(reason: "a run under way", waiter: nil)
        // The run read m1; meanwhile the master became m2; the run then names m3.
        _ = machine.discovered(m2, role: role(), connection: FakeLink("new", m2), answeredBy: s1, attempts: [], basedOn: m1, promotedAt: nil, now: t0)
        let actions = lines(machine.discovered(m3, role: role(), connection: FakeLink("old", m3), answeredBy: s1, attempts: [], basedOn: m1, promotedAt: nil, now: t0))
        #expect(actions == ["close old", "reconcile: queued"])
        #expect(machine.topology.master?.address == m2)
    }

    @Test func aSlowMasterIsKeptAnUnreachableOneIsReportedOnce() {
        var (machine, _) = withMaster()
        let slow = SentinelClientError.noVerifiedMaster(
            masterName: "mymaster", attempts: [DiscoveryAttempt(sentinel: s1, namedMaster: m1, reason: .timedOut(milliseconds: 500))])
        #expect(machine.discoveryFailed(slow).masterKept)
        let refused = SentinelClientError.noVerifiedMaster(
            masterName: "mymaster", attempts: [DiscoveryAttempt(sentinel: s1, namedMaster: m1, reason: .connectionRefused)])
        let (kept, actions) = machine.discoveryFailed(refused)
        #expect(!kept)
        #expect(lines(actions).first == "close first")
        #expect(lines(actions).last?.hasPrefix("publish masterUnreachable") == true)
        #expect(lines(machine.discoveryFailed(refused).1) == [], "once per outage")
        guard case .noMaster = machine.lease() else { Issue.record("no master to lease"); return }
    }

    @Test func nothingIsPublishedOrInstalledOnceStopping() {
        var machine = machine()
        _ = machine.stopRequested()
        let actions = lines(machine.discovered(m1, role: role(), connection: FakeLink("c", m1), answeredBy: s1, attempts: [], basedOn: nil, promotedAt: nil, now: t0))
        #expect(actions == ["close c"])
        #expect(lines(machine.requestReconcile(reason: "late", waiter: "w")) == ["resume w"])
        #expect(lines(machine.observe(nil, SentinelAnswer(sentinel: s1, master: m1, otherSentinels: [s3], latencyMicroseconds: 1))) == [])
    }

    // MARK: Reconcile requests

    @Test func reconcileRequestsShareTheRunAfterTheOneUnderWay() {
        var machine = machine()
        #expect(lines(machine.requestReconcile(reason: "a", waiter: "a")) == ["reconcile: start"])
        #expect(lines(machine.requestReconcile(reason: "b", waiter: "b")) == ["reconcile: queued"])
        #expect(lines(machine.requestReconcile(reason: "c", waiter: nil)) == ["reconcile: queued"])
        let (again, first) = machine.reconcileRunFinished()
        #expect(again && lines(first) == ["resume a"])
        let (settled, second) = machine.reconcileRunFinished()
        #expect(!settled && lines(second) == ["resume b"])
    }

    // MARK: Sentinel's messages and watchers

    @Test func eachSentinelEventIsShownOnceAndLearnedSentinelsAreWatched() {
        var (machine, _) = withMaster()
        #expect(lines(machine.watchKnownSentinels()) == ["watch 127.0.0.1:26379", "watch 127.0.0.1:26380"])
        let payload = "sentinel abc 127.0.0.1 26381 @ mymaster 127.0.0.1 6379"
        let first = lines(machine.sentinelMessage(channel: "+sentinel", payload: payload, from: s1, now: t0))
        #expect(first == [
            "publish sentinelEvent(+sentinel sentinel abc 127.0.0.1 26381 @ mymaster 127.0.0.1 6379)",
            "publish sentinelLearned(127.0.0.1:26381)", "watch 127.0.0.1:26381",
        ])
        #expect(lines(machine.sentinelMessage(channel: "+sentinel", payload: payload, from: s2, now: t0)) == [], "a copy")
        let switched = lines(machine.sentinelMessage(channel: "+switch-master", payload: "mymaster 127.0.0.1 6379 127.0.0.1 6380", from: s1, now: t0))
        #expect(switched.last == "reconcile: start")
    }

    @Test func aFailoverStartIsNewsOnceAndOnlyForTheMasterInUse() {
        var (machine, _) = withMaster()
        let odown = lines(machine.sentinelMessage(channel: "+odown", payload: "master mymaster 127.0.0.1 6379 #quorum 2/2", from: s1, now: t0))
        #expect(odown.contains("publish failoverStarted(master: Optional(127.0.0.1:6379), reportedBy: 127.0.0.1:26379)"))
        let again = lines(machine.sentinelMessage(channel: "+try-failover", payload: "master mymaster 127.0.0.1 6379", from: s2, now: t0))
        #expect(!again.contains { $0.hasPrefix("publish failoverStarted") })
        #expect(again.last == "reconcile: queued")
    }

    @Test func onlyTheLeadersAbortEndsAHold() {
        var (machine, _) = withMaster()
        _ = machine.sentinelMessage(channel: "+selected-slave", payload: selected(m2, replacing: m1), from: s1, now: t0)
        let id = machine.makeWaiterID()
        _ = machine.park(id, for: .hold, "h")
        let abort = "master mymaster 127.0.0.1 6379"
        let other = lines(machine.sentinelMessage(channel: "-failover-abort-not-elected", payload: abort, from: s2, now: t0))
        #expect(!other.contains("resume h") && machine.holdsCommands)
        let leader = lines(machine.sentinelMessage(channel: "-failover-abort-no-good-slave", payload: abort, from: s1, now: t0))
        #expect(leader.contains("resume h") && !machine.holdsCommands)
        #expect(leader.contains { $0.hasPrefix("publish holdReleased(master: 127.0.0.1:6379") })
    }

    @Test func theWatchLimitHoldsAndALinkLostAndFoundIsNewsTheFirstIsNot() {
        var machine = machine(watched: 1)
        #expect(lines(machine.watchKnownSentinels()) == ["watch 127.0.0.1:26379"])
        let link = FakeLink("watcher", s1)
        let connected = machine.watcherConnected(s1, link)
        #expect(connected)
        #expect(lines(machine.watcherLink(s1, subscribed: true)) == [])
        #expect(machine.knownSentinels.map(\.subscribed) == [true, false])
        #expect(lines(machine.watcherLink(s1, subscribed: false)) == ["close watcher", "publish sentinelDown(127.0.0.1:26379)"])
        #expect(lines(machine.watcherLink(s1, subscribed: false)) == [])
        #expect(lines(machine.watcherLink(s1, subscribed: true)) == ["publish sentinelUp(127.0.0.1:26379)"])
        #expect(lines(machine.watcherLink(s2, subscribed: true)) == [], "an unwatched sentinel changes nothing")
        #expect(machine.stopRequested().isEmpty, "the lost link's connection was closed already")
        let late = machine.watcherConnected(s1, FakeLink("late", s1))
        #expect(!late, "no link once stopping")
    }

    @Test func theStopHandsBackTheLinksToUnsubscribe() {
        var machine = machine()
        _ = machine.watchKnownSentinels()
        _ = machine.watcherConnected(s1, FakeLink("a", s1))
        _ = machine.watcherConnected(s2, FakeLink("b", s2))
        #expect(Set(machine.stopRequested().map(\.name)) == ["a", "b"])
        #expect(machine.stopRequested().isEmpty)
    }

    // MARK: Following a promotion

    @Test func anEarlySwitchInstallsTheCandidateUnlessThePromotionEnded() {
        var (machine, _) = withMaster()
        _ = machine.sentinelMessage(channel: "+selected-slave", payload: selected(m2, replacing: m1), from: s1, now: t0)
        guard let promotion = machine.heldPromotion else { Issue.record("a hold"); return }
        let sampled = machine.sampled(offset: 42, during: promotion)
        #expect(sampled)
        #expect(machine.topology.master?.replicationOffset == 42)
        let actions = lines(machine.promotedEarly(promotion, role: role(), connection: FakeLink("c", m2), promotedAt: 40, now: t0))
        #expect(actions.contains("publish replicationGap(from: 127.0.0.1:6379, to: 127.0.0.1:6380, bytes: 2)"))
        #expect(machine.earlySwitchCandidate == m2 && !machine.holdsCommands)
        let sampledLate = machine.sampled(offset: 50, during: promotion)
        #expect(!sampledLate, "no longer followed")
        #expect(lines(machine.promotedEarly(promotion, role: role(), connection: FakeLink("late", m2), promotedAt: nil, now: t0)) == ["close late"])
        #expect(lines(machine.promotionTimedOut(promotion, reason: "late")) == [])
    }

    @Test func aHoldThatTimesOutReleasesTheOldMaster() {
        var (machine, _) = withMaster()
        _ = machine.sentinelMessage(channel: "+selected-slave", payload: selected(m2, replacing: m1), from: s1, now: t0)
        guard let promotion = machine.heldPromotion else { Issue.record("a hold"); return }
        let actions = lines(machine.promotionTimedOut(promotion, reason: "no master"))
        #expect(actions == ["publish holdReleased(master: 127.0.0.1:6379, reason: \"no master\")"])
        #expect(machine.heldPromotion == nil && machine.topology.master?.address == m1)
    }

    @Test func theSentinelsOverruleAnEarlySwitchNamingAThirdMaster() {
        var (machine, _) = withMaster()
        let m3 = ServerAddress(host: "127.0.0.1", port: 6381)
        _ = machine.sentinelMessage(channel: "+selected-slave", payload: selected(m2, replacing: m1), from: s1, now: t0)
        guard let promotion = machine.heldPromotion else { Issue.record("a hold"); return }
        _ = machine.promotedEarly(promotion, role: role(), connection: FakeLink("c", m2), promotedAt: nil, now: t0)
        let (lagging, none) = machine.earlyMasterStays(candidate: m2, named: m1, stillMaster: true, now: t0 + .seconds(1), grace: .seconds(60))
        #expect(lagging && none.isEmpty)
        let (stays, actions) = machine.earlyMasterStays(candidate: m2, named: m3, stillMaster: true, now: t0 + .seconds(2), grace: .seconds(60))
        #expect(!stays)
        #expect(lines(actions) == ["publish earlySwitchOverruled(early: 127.0.0.1:6380, named: Optional(127.0.0.1:6381))"])
        #expect(machine.earlySwitchCandidate == nil)
        let (stale, again) = machine.earlyMasterStays(candidate: m2, named: m3, stillMaster: true, now: t0 + .seconds(3), grace: .seconds(60))
        #expect(stale && lines(again) == ["reconcile: start"], "a check of a switch that is no longer pending: the run is dropped")
    }

    @Test func noAgreementVerdictWhileAPromotionIsFollowed() {
        var (machine, _) = withMaster()
        let dissent = [
            SentinelProbe(address: s1, origin: .configured, subscribed: true, reachable: true, namedMaster: m2),
            SentinelProbe(address: s2, origin: .configured, subscribed: true, reachable: true, namedMaster: m1),
        ]
        _ = machine.sentinelMessage(channel: "+selected-slave", payload: selected(m2, replacing: m1), from: s1, now: t0)
        #expect(lines(machine.probed(dissent)) == [])
        guard let promotion = machine.heldPromotion else { Issue.record("a hold"); return }
        _ = machine.promotionTimedOut(promotion, reason: "x")
        #expect(lines(machine.probed(dissent)).count == 1)
    }

    // MARK: The read replica and caches

    @Test func theReadReplicaServesUntilClosedOrPromotedAndOneRaceWinnerIsKept() {
        var (machine, _) = withMaster()
        let replica = FakeLink("r1", m2)
        #expect(machine.readReplicaConnected(replica).0 === replica)
        let other = FakeLink("r2", m2)
        let (kept, actions) = machine.readReplicaConnected(other)
        #expect(kept === replica && lines(actions) == ["close r2"], "another read connected first")
        #expect(machine.servingReadReplica().0 === replica)
        _ = machine.discovered(m2, role: role(), connection: FakeLink("new", m2), answeredBy: s1, attempts: [], basedOn: m1, promotedAt: nil, now: t0)
        let (serving, dropped) = machine.servingReadReplica()
        #expect(serving == nil && lines(dropped) == ["close r1"], "promoted to master")
        let r3 = FakeLink("r3", m1)
        _ = machine.readReplicaConnected(r3)
        #expect(lines(machine.readFailed(on: r3)) == ["close r3"])
        #expect(machine.readReplica == nil)
    }

    @Test func replicaTurnsAdvanceAndReadOnlyAnswersAreKept() {
        var machine = machine()
        let first = machine.nextReplicaTurn()
        let second = machine.nextReplicaTurn()
        #expect(first == 1 && second == 2)
        #expect(machine.readOnly("get") == nil)
        machine.learned(readOnly: true, of: "get")
        #expect(machine.readOnly("get") == true)
    }
}

/// `ParkedWaiters` keeps a wake that comes before its waiter parks.
@Suite struct ParkedWaitersTests {
    @Test func aWakeBeforeParkingResumesAtParking() {
        var waiters = ParkedWaiters<String>()
        let early = waiters.makeID()
        #expect(waiters.wake(early) == nil)
        #expect(waiters.park(early, .slot, "early") == "early")
        let parked = waiters.makeID()
        #expect(waiters.park(parked, .hold, "h") == nil)
        #expect(waiters.remove(parked) == "h")
        #expect(waiters.remove(parked) == nil)
        _ = waiters.park(waiters.makeID(), .hold, "a")
        _ = waiters.park(waiters.makeID(), .slot, "b")
        #expect(waiters.removeAll(.hold) == ["a"])
        #expect(waiters.count == 1)
    }
}

/// `ResendRule`: what goes again after a failure.
@Suite struct ResendRuleTests {
    let address = ServerAddress(host: "127.0.0.1", port: 6379)

    @Test func notSentGoesAgainInDoubtOnlyWhenReadOnlyPinnedNever() {
        let notSent = SentinelClientError.commandNotSent(command: "SET", address: address, reason: "closed")
        let inDoubt = SentinelClientError.commandInDoubt(command: "SET", address: address, reason: "closed")
        #expect(ResendRule.after(notSent, pinned: false) == .resend)
        #expect(ResendRule.after(inDoubt, pinned: false) == .ifReadOnly)
        #expect(ResendRule.after(.malformedReply(address: address, description: "x"), pinned: false) == .never)
        #expect(ResendRule.after(notSent, pinned: true) == .never)
        #expect(ResendRule.refusedByDemotedMaster(.error(ByteBuffer(string: "READONLY You can't write against a read only replica.")), pinned: false))
        #expect(!ResendRule.refusedByDemotedMaster(.error(ByteBuffer(string: "READONLY You can't write against a read only replica.")), pinned: true))
        #expect(!ResendRule.refusedByDemotedMaster(.error(ByteBuffer(string: "ERR wrong")), pinned: false))
    }
}

extension Result where Failure == SentinelClientError {
    var failureCode: SentinelClientError.Code? {
        if case .failure(let error) = self { return error.code }
        return nil
    }
}
