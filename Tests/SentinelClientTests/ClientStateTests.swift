import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import SentinelClient

/// The client's decisions as plain values: no sockets, no clock.
@Suite struct ReconcileStateMachineTests {
    typealias Machine = ReconcileStateMachine<String>

    private func resumed(_ action: Machine.FinishAction) -> [String] {
        switch action {
        case .runAgain(let done), .settled(let done): return done
        }
    }

    private func settles(_ action: Machine.FinishAction) -> Bool {
        if case .settled = action { return true }
        return false
    }

    @Test func aRequestWhenIdleStartsARun() {
        var machine = Machine()
        #expect(machine.request("a") == .startRun)
        #expect(machine.isRunning)
        let finish = machine.runFinished()
        #expect(settles(finish))
        #expect(resumed(finish) == ["a"])
        #expect(!machine.isRunning)
    }

    /// The run under way may have read the topology before the event behind the
    /// request: the request is served by a run that starts after it.
    @Test func aRequestDuringARunGetsARunOfItsOwn() {
        var machine = Machine()
        #expect(machine.request("first") == .startRun)
        #expect(machine.request("second") == .queued)
        #expect(machine.request("third") == .queued)
        let first = machine.runFinished()
        #expect(!settles(first), "another run follows")
        #expect(resumed(first) == ["first"], "the later requests wait for it")
        let second = machine.runFinished()
        #expect(settles(second))
        #expect(resumed(second) == ["second", "third"])
    }

    /// The defect of the task-based reconcile: a request arriving just as a run
    /// ended joined the finished run and returned with nothing run for it.
    @Test func aRequestJustAfterARunEndsStartsANewOne() {
        var machine = Machine()
        _ = machine.request("first")
        #expect(settles(machine.runFinished()))
        #expect(machine.request("late") == .startRun)
        #expect(resumed(machine.runFinished()) == ["late"])
    }

    @Test func requestsWithoutAWaiterStillCauseRuns() {
        var machine = Machine()
        #expect(machine.request(nil) == .startRun)
        #expect(machine.request(nil) == .queued)
        #expect(!settles(machine.runFinished()))
        #expect(settles(machine.runFinished()))
    }

    @Test func stopResumesEveryWaiterAndIdles() {
        var machine = Machine()
        _ = machine.request("a")
        _ = machine.request("b")
        #expect(Set(machine.stop()) == ["a", "b"])
        #expect(!machine.isRunning)
        #expect(machine.request("c") == .startRun)
    }
}

@Suite struct SentinelMessageTests {
    private func parse(_ channel: String, _ payload: String) -> SentinelMessage? {
        SentinelMessage.parse(channel: channel, payload: payload, masterName: "mymaster")
    }

    @Test func switchMasterOfOurMasterOnly() {
        #expect(parse("+switch-master", "mymaster 127.0.0.1 6379 127.0.0.1 6380") == .masterSwitched)
        #expect(parse("+switch-master", "other 127.0.0.1 6379 127.0.0.1 6380") == nil)
    }

    @Test func failoverStartIsAboutOurMaster() {
        let master = ServerAddress(host: "127.0.0.1", port: 6379)
        #expect(parse("+odown", "master mymaster 127.0.0.1 6379 #quorum 2/2") == .failoverStarted(master: master))
        #expect(parse("+try-failover", "master mymaster 127.0.0.1 6379") == .failoverStarted(master: master))
        #expect(parse("+odown", "master other 127.0.0.1 6379 #quorum 2/2") == nil)
        #expect(parse("+odown", "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379") == nil)
    }

    @Test func sentinelsGoingDownAndUp() {
        let sentinel = ServerAddress(host: "127.0.0.1", port: 26380)
        #expect(parse("+sdown", "sentinel abc 127.0.0.1 26380 @ mymaster 127.0.0.1 6379") == .sentinelDown(sentinel))
        #expect(parse("-sdown", "sentinel abc 127.0.0.1 26380 @ mymaster 127.0.0.1 6379") == .sentinelUp(sentinel))
        #expect(parse("+sdown", "master mymaster 127.0.0.1 6379") == .masterStateChanged(channel: "+sdown"))
        #expect(parse("-odown", "master mymaster 127.0.0.1 6379") == .masterStateChanged(channel: "-odown"))
    }

    @Test func newSentinelsOfOurMasterOnly() {
        let sentinel = ServerAddress(host: "127.0.0.1", port: 26381)
        #expect(parse("+sentinel", "sentinel abc 127.0.0.1 26381 @ mymaster 127.0.0.1 6379") == .sentinelAdded(sentinel))
        #expect(parse("+sentinel", "sentinel abc 127.0.0.1 26381 @ other 127.0.0.1 6379") == nil)
    }

    @Test func theLeadersPromotionStepsNameTheCandidateAndOurMaster() {
        let candidate = ServerAddress(host: "127.0.0.1", port: 6380)
        let master = ServerAddress(host: "127.0.0.1", port: 6379)
        let payload = "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"
        for channel in ["+selected-slave", "+failover-state-send-slaveof-noone", "+promoted-slave"] {
            #expect(parse(channel, payload) == .replicaSelected(candidate: candidate, master: master), "\(channel)")
        }
        #expect(parse("+selected-slave", "slave 127.0.0.1:6380 127.0.0.1 6380 @ other 127.0.0.1 6379") == nil)
        #expect(parse("+selected-slave", "master mymaster 127.0.0.1 6379") == nil)
        #expect(parse("+selected-slave", "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 x") == nil)
        #expect(parse("-failover-abort-slave-timeout", "master mymaster 127.0.0.1 6379") == .failoverAborted)
        #expect(parse("-failover-abort-no-good-slave", "master other 127.0.0.1 6379") == nil)
        #expect(SentinelMessage.channels.contains("-failover-abort-slave-timeout"))
    }

    @Test func malformedPayloadsAreIgnored() {
        #expect(parse("+odown", "master mymaster 127.0.0.1 notaport") == nil)
        #expect(parse("+sdown", "") == nil)
        #expect(parse("+unknown-channel", "master mymaster 127.0.0.1 6379") == nil)
    }
}

@Suite struct BackoffTests {
    @Test func doublesUpToTheMaximumAndResets() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(500))
        #expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()] == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(500),
        ])
        backoff.reset()
        #expect(backoff.next() == .milliseconds(100))
    }
}

@Suite struct EventBroadcasterTests {
    @Test func everyStreamGetsEveryEventAndEndsAtFinish() async {
        let broadcaster = EventBroadcaster<Int>()
        let first = broadcaster.makeStream()
        let second = broadcaster.makeStream()
        broadcaster.yield(1)
        broadcaster.yield(2)
        broadcaster.finish()
        var a: [Int] = []
        for await value in first { a.append(value) }
        var b: [Int] = []
        for await value in second { b.append(value) }
        #expect(a == [1, 2])
        #expect(b == [1, 2])
        var late: [Int] = []
        for await value in broadcaster.makeStream() { late.append(value) }
        #expect(late.isEmpty, "a stream made after finish ends at once")
    }
}

/// A value that arrives after the deadline still has an owner.
@Suite struct DeadlineTests {
    @Test func aValueProducedAfterTheDeadlineIsDiscardedNotDropped() async {
        let late = LateValues()
        await #expect(throws: DeadlineExceeded.self) {
            _ = try await withDeadline(.milliseconds(20), discardLate: { late.append($0) }) {
                // Ignores cancellation, as a connect or a ROLE under way does.
                let until = ContinuousClock.now + .milliseconds(150)
                while ContinuousClock.now < until { await Task.yield() }
                return 7
            }
        }
        #expect(late.values == [7])
    }

    @Test func aValueInTimeIsReturned() async throws {
        let late = LateValues()
        let value = try await withDeadline(.seconds(5), discardLate: { late.append($0) }) { 3 }
        #expect(value == 3)
        #expect(late.values.isEmpty)
    }
}

/// A small lock-protected list for the closures above.
final class LateValues: Sendable {
    private let box = NIOLockedValueBox<[Int]>([])
    func append(_ value: Int) { box.withLockedValue { $0.append(value) } }
    var values: [Int] { box.withLockedValue { $0 } }
}

@Suite struct TopologyStateTests {
    let s1 = ServerAddress(host: "127.0.0.1", port: 26379)
    let s2 = ServerAddress(host: "127.0.0.1", port: 26380)
    let m1 = ServerAddress(host: "127.0.0.1", port: 6379)
    let m2 = ServerAddress(host: "127.0.0.1", port: 6380)
    let role = MasterRole(replicationOffset: 10, replicas: [])
    let t0 = NIODeadline.uptimeNanoseconds(1_000)

    @Test func theFirstMasterIsNoFailoverTheNextIs() {
        var state = TopologyState(masterName: "m", sentinels: [s1, s2])
        #expect(state.verified(m1, answeredBy: s1, role: role, attempts: [], at: t0) == [.masterSwitched(from: nil, to: m1)])
        #expect(state.verified(m1, answeredBy: s1, role: role, attempts: [], at: t0 + .seconds(1)) == [])
        #expect(state.master?.knownSince == t0, "the same master keeps its age")
        #expect(state.verified(m2, answeredBy: s2, role: role, attempts: [], at: t0 + .seconds(2)) == [.masterSwitched(from: m1, to: m2)])
        #expect(state.failovers == 1)
        #expect(state.master?.knownSince == t0 + .seconds(2))
        #expect(state.sentinels.first?.address == s2, "the sentinel that answered is asked first")
    }

    /// Sentinels given as their tunnels, and the map sending their announced addresses to
    /// the same tunnels: each is one sentinel, not two.
    @Test func aLearnedSentinelMappedToAGivenOneIsThatOne() throws {
        var map = AddressMap()
        try map.add("10.0.0.1:26379=\(s1)")
        var state = TopologyState(masterName: "m", sentinels: [s1], addressMap: map)
        #expect(state.learn(ServerAddress(host: "10.0.0.1", port: 26379)).isEmpty)
        let other = ServerAddress(host: "10.0.0.2", port: 26379)
        #expect(state.learn(other) == [.sentinelLearned(other)])
        #expect(state.sentinels.map(\.address) == [s1, other])
    }

    @Test func unreachableIsReportedOnceAndItsEndToo() {
        var state = TopologyState(masterName: "m", sentinels: [s1])
        _ = state.verified(m1, answeredBy: s1, role: role, attempts: [], at: t0)
        #expect(state.unreachable("refused") == [.masterUnreachable(m1, reason: "refused")])
        #expect(state.unreachable("refused again") == [], "once per outage")
        #expect(!state.masterReachable)
        #expect(state.verified(m1, answeredBy: s1, role: role, attempts: [], at: t0) == [.masterReachable(m1)])
        #expect(state.masterReachable)
    }

    @Test func answersTeachNewSentinelsOnce() {
        var state = TopologyState(masterName: "m", sentinels: [s1])
        let answer = SentinelAnswer(sentinel: s1, master: m1, otherSentinels: [s2, s1], latencyMicroseconds: 120)
        #expect(state.observe(nil, answer) == [.sentinelLearned(s2)])
        #expect(state.observe(nil, answer) == [])
        #expect(state.sentinels.map(\.origin) == [.configured, .learned])
        #expect(state.sentinels[0].namedMaster == m1 && state.sentinels[0].reachable == true)
    }

    @Test func aFailedTryMarksTheSentinelUnreachableUnlessItAnswered() {
        var state = TopologyState(masterName: "m", sentinels: [s1, s2])
        _ = state.observe(DiscoveryAttempt(sentinel: s1, reason: .connectionRefused), nil)
        _ = state.observe(DiscoveryAttempt(sentinel: s2, reason: .unknownMasterName), nil)
        #expect(state.sentinels[0].reachable == false)
        #expect(state.sentinels[1].reachable == nil, "it answered: it does not know the name")
        #expect(state.sentinels[0].lastError == "sentinel 127.0.0.1:26379: connection refused")
    }

    /// A master too busy to answer ROLE in time (a long script) is kept while the
    /// sentinels still name it; refused, or another master named, it is not.
    @Test func aSlowMasterIsKeptADeadOneIsNot() {
        var state = TopologyState(masterName: "m", sentinels: [s1, s2])
        let slow = [
            DiscoveryAttempt(sentinel: s1, namedMaster: m1, reason: .timedOut(milliseconds: 500)),
            DiscoveryAttempt(sentinel: s2, namedMaster: m1, reason: .timedOut(milliseconds: 500)),
        ]
        #expect(!state.keepsMaster(after: .noVerifiedMaster(masterName: "m", attempts: slow)), "no master known yet")
        _ = state.verified(m1, answeredBy: s1, role: role, attempts: [], at: t0)
        #expect(state.keepsMaster(after: .noVerifiedMaster(masterName: "m", attempts: slow)))
        #expect(state.keepsMaster(after: .noSentinelReachable(masterName: "m", attempts: [])))
        let refused = [DiscoveryAttempt(sentinel: s1, namedMaster: m1, reason: .connectionRefused)]
        #expect(!state.keepsMaster(after: .noVerifiedMaster(masterName: "m", attempts: refused)))
        let elsewhere = [DiscoveryAttempt(sentinel: s1, namedMaster: m2, reason: .timedOut(milliseconds: 500))]
        #expect(!state.keepsMaster(after: .noVerifiedMaster(masterName: "m", attempts: elsewhere)))
        #expect(!state.keepsMaster(after: .unknownMasterName("m", attempts: [])))
    }

    // MARK: Following a promotion

    let m3 = ServerAddress(host: "127.0.0.1", port: 6381)
    let grace = TimeAmount.seconds(60)

    private func holding() -> TopologyState {
        var state = TopologyState(masterName: "m", sentinels: [s1])
        _ = state.verified(m1, answeredBy: s1, role: role, attempts: [], at: t0)
        let started = state.replicaSelected(m2, replacing: m1, reportedBy: s1, at: t0 + .seconds(1))
        #expect(started)
        return state
    }

    @Test func aHoldStartsOnlyForTheMasterInUseAndOncePerFailover() {
        var state = TopologyState(masterName: "m", sentinels: [s1])
        var started = state.replicaSelected(m3, replacing: m2, reportedBy: s1, at: t0)
        #expect(!started, "no master in use yet")
        _ = state.verified(m1, answeredBy: s1, role: role, attempts: [], at: t0)
        started = state.replicaSelected(m2, replacing: m3, reportedBy: s1, at: t0)
        #expect(!started, "about another master")
        started = state.replicaSelected(m1, replacing: m1, reportedBy: s1, at: t0)
        #expect(!started, "the master itself")
        started = state.replicaSelected(m2, replacing: m1, reportedBy: s1, at: t0)
        #expect(started)
        #expect(state.promotion?.holdsCommands == true)
        started = state.replicaSelected(m2, replacing: m1, reportedBy: s2, at: t0)
        #expect(!started, "the next step of the same failover")
    }

    @Test func aFailoverOfTheNextMasterIsHeldFromTheSwitchToIt() {
        var state = TopologyState(masterName: "m", sentinels: [s1], selectionLifetime: .seconds(5))
        _ = state.verified(m1, answeredBy: s1, role: role, attempts: [], at: t0)
        // m1 was replaced by m2 already, and m2 is being failed over to m3 before this client switched.
        let started = state.replicaSelected(m3, replacing: m2, reportedBy: s2, at: t0 + .seconds(1))
        #expect(!started && state.promotion == nil, "m1 is still in use: nothing is held on it")
        let events = state.verified(m2, answeredBy: s1, role: role, attempts: [], at: t0 + .seconds(2))
        #expect(events == [.masterSwitched(from: m1, to: m2), .commandsHeld(candidate: m3, replacing: m2)])
        #expect(state.promotion == Promotion(old: m2, candidate: m3, reportedBy: s2, since: t0 + .seconds(1), phase: .awaitingRole))
        #expect(state.pendingSelection == nil)
    }

    @Test func aFailoverOfTheFirstMasterBeforeItIsVerifiedIsHeldFromTheStart() {
        var state = TopologyState(masterName: "m", sentinels: [s1])
        let started = state.replicaSelected(m2, replacing: m1, reportedBy: s1, at: t0)
        #expect(!started, "no master in use yet")
        let events = state.verified(m1, answeredBy: s1, role: role, attempts: [], at: t0 + .milliseconds(10))
        #expect(events == [.masterSwitched(from: nil, to: m1), .commandsHeld(candidate: m2, replacing: m1)])
        #expect(state.promotion?.holdsCommands == true)
    }

    @Test func aLateOrOldSelectionHoldsNothing() {
        var state = TopologyState(masterName: "m", sentinels: [s1], selectionLifetime: .seconds(5))
        _ = state.verified(m1, answeredBy: s1, role: role, attempts: [], at: t0)
        _ = state.verified(m2, answeredBy: s1, role: role, attempts: [], at: t0 + .seconds(1))
        let started = state.replicaSelected(m2, replacing: m1, reportedBy: s2, at: t0 + .seconds(1))
        #expect(!started && state.pendingSelection == nil, "a late step of the failover followed is about the master it replaced")
        _ = state.replicaSelected(m1, replacing: m3, reportedBy: s2, at: t0 + .seconds(2))
        #expect(state.pendingSelection?.old == m3)
        let events = state.verified(m3, answeredBy: s1, role: role, attempts: [], at: t0 + .seconds(8))
        #expect(events == [.masterSwitched(from: m2, to: m3)], "the selection is older than the lifetime")
        #expect(state.promotion == nil)
        #expect(state.pendingSelection == nil, "a switch uses up the selection or forgets it")
    }

    @Test func anAbandonedHoldEndsAndTheMasterStays() {
        var state = holding()
        state.promotionAbandoned()
        #expect(state.promotion == nil)
        #expect(state.master?.address == m1)
    }

    @Test func theSentinelsNamingTheCandidateDuringAHoldEndIt() {
        var state = holding()
        #expect(state.verified(m2, answeredBy: s1, role: role, attempts: [], at: t0 + .seconds(2)) == [.masterSwitched(from: m1, to: m2)])
        #expect(state.promotion == nil)
    }

    @Test func afterAnEarlySwitchTheOldMasterNamedByLaggingSentinelsIsNotFollowed() {
        var state = holding()
        state.promotedEarly(at: t0 + .seconds(2))
        _ = state.verified(m2, answeredBy: s1, role: role, attempts: [], at: t0 + .seconds(2))
        #expect(state.promotion?.holdsCommands == false, "commands flow to the early master")
        let later = t0 + .seconds(5)
        var decision = state.decide(named: m1, earlyMasterStillMaster: true, at: later, grace: grace)
        #expect(decision == .keepEarlyMaster)
        decision = state.decide(named: nil, earlyMasterStillMaster: true, at: later, grace: grace)
        #expect(decision == .keepEarlyMaster)
        decision = state.decide(named: m2, earlyMasterStillMaster: true, at: later, grace: grace)
        #expect(decision == .apply, "the sentinels agree")
        #expect(state.promotion == nil)
        decision = state.decide(named: m1, earlyMasterStillMaster: true, at: later, grace: grace)
        #expect(decision == .apply, "nothing pending any more")
    }

    @Test func anEarlySwitchIsOverruledByAThirdMasterADemotionOrTheGrace() {
        let switched = t0 + .seconds(2)
        let overruled = PromotionDecision.overruled(early: m2, since: switched)
        for (named, stillMaster, at) in [(m3, true, t0 + .seconds(3)), (m1, false, t0 + .seconds(3)), (m1, true, switched + grace)] {
            var state = holding()
            state.promotedEarly(at: switched)
            let decision = state.decide(named: named, earlyMasterStillMaster: stillMaster, at: at, grace: grace)
            #expect(decision == overruled)
            #expect(state.promotion == nil, "the sentinels are followed again")
        }
    }

    @Test func aSentinelReportedDownBySeveralIsNewsOnce() {
        var state = TopologyState(masterName: "m", sentinels: [s1, s2])
        #expect(state.sentinelReported(s2, down: true) == [.sentinelDown(s2)])
        #expect(state.sentinelReported(s2, down: true) == [], "the second sentinel's copy")
        #expect(state.sentinelReported(s2, down: false) == [.sentinelUp(s2)])
        #expect(state.sentinelReported(s2, down: false) == [])
    }

    @Test func theAgreementIsNewsWhenItChangesAndStaleAfterASwitch() {
        var state = TopologyState(masterName: "m", sentinels: [s1, s2])
        _ = state.verified(m1, answeredBy: s1, role: role, attempts: [], at: t0)
        func probe(_ address: ServerAddress, names master: ServerAddress?) -> SentinelProbe {
            SentinelProbe(address: address, origin: .configured, subscribed: true, reachable: master != nil, namedMaster: master)
        }
        #expect(state.probed([probe(s1, names: m1), probe(s2, names: m1)]) == [], "full agreement at first is no news")
        let hung = state.probed([probe(s1, names: m1), probe(s2, names: nil)])
        #expect(hung == [.agreementChanged(SentinelAgreement(known: 2, agreeing: 1, unreachable: [s2], dissenting: []))])
        #expect(state.agreement?.majorityAnswers == false, "1 of 2 is no majority")
        #expect(state.sentinels.last?.reachable == false)
        #expect(!state.agreementStale)
        _ = state.verified(m2, answeredBy: s1, role: role, attempts: [], at: t0 + .seconds(1))
        #expect(state.agreementStale, "a switch makes the old verdict stale")
        let dissent = state.probed([probe(s1, names: m2), probe(s2, names: m1)])
        #expect(dissent == [.agreementChanged(SentinelAgreement(known: 2, agreeing: 1, unreachable: [], dissenting: [s2]))])
        #expect(!state.agreementStale)
    }

    @Test func aSampledOffsetUpdatesOnlyTheMasterInUse() {
        var state = holding()
        state.sampled(offset: 99, of: m2)
        #expect(state.master?.replicationOffset == 10)
        state.sampled(offset: 99, of: m1)
        #expect(state.master?.replicationOffset == 99)
    }
}

/// The Sentinel client protocol's order of steps, with the I/O replaced by values.
@Suite struct DiscoverySearchTests {
    let a = ServerAddress(host: "127.0.0.1", port: 26379)
    let b = ServerAddress(host: "127.0.0.1", port: 26380)
    let c = ServerAddress(host: "127.0.0.1", port: 26381)
    let master = ServerAddress(host: "127.0.0.1", port: 6379)
    let replica = ServerAddress(host: "127.0.0.1", port: 6380)
    let role = MasterRole(replicationOffset: 1, replicas: [])

    struct Refused: Error {}

    /// Runs a search where `names` says what each sentinel names (nil: no master; a
    /// sentinel not in it is down) and only `master` passes ROLE; returns the outcome
    /// and the steps taken.
    private func search(
        _ names: [ServerAddress: ServerAddress?], order: [ServerAddress]
    ) async throws -> (outcome: Discovery.SearchOutcome<String>, steps: [String]) {
        let steps = StepLog()
        let master = self.master
        let outcome = try await Discovery.search(
            order: order,
            ask: { sentinel in
                steps.add("ask \(sentinel.port)")
                guard let named = names[sentinel] else { throw Refused() }
                return SentinelAnswer(sentinel: sentinel, master: named, otherSentinels: [], latencyMicroseconds: 1)
            },
            verify: { address in
                steps.add("verify \(address.port)")
                return address == master ? .success((self.role, "connection to \(address.port)")) : .failure(.notAMaster(role: "replica"))
            },
            pause: { steps.add("pause") },
            reason: { _ in .connectionRefused },
            observe: { attempt, _ in if let attempt { steps.add("failed \(attempt.sentinel.port)") } })
        return (outcome, steps.all)
    }

    /// An unreached master no address-map entry covers is waited for once, not once per
    /// sentinel that names it; a master that is merely silent (busy with a slow command)
    /// is tried again for each.
    @Test(arguments: [true, false]) func anUnmappedMasterIsWaitedForOncePerSearch(unmapped: Bool) async throws {
        let steps = StepLog()
        let named = ServerAddress(host: "10.0.0.7", port: 6379)
        let timedOut = FailureReason.timedOut(milliseconds: 1000)
        let failure = unmapped ? FailureReason.notInAddressMap(named, timedOut) : timedOut
        let outcome: Discovery.SearchOutcome<String> = try await Discovery.search(
            order: [a, b, c],
            ask: { sentinel in SentinelAnswer(sentinel: sentinel, master: named, otherSentinels: [], latencyMicroseconds: 1) },
            verify: { address -> Result<(MasterRole, String), FailureReason> in
                steps.add("verify \(address.port)")
                return .failure(failure)
            },
            pause: { steps.add("pause") },
            reason: { _ in .connectionRefused },
            observe: { attempt, _ in if let attempt { steps.add("failed \(attempt.sentinel.port)") } })
        let expected = unmapped
            ? ["verify 6379", "failed 26379", "pause", "failed 26380", "failed 26381"]
            : ["verify 6379", "failed 26379", "pause", "verify 6379", "failed 26380", "pause", "verify 6379", "failed 26381", "pause"]
        #expect(steps.all == expected)
        guard case .exhausted(let attempts) = outcome else {
            Issue.record("expected no master, got \(outcome)")
            return
        }
        #expect(attempts.map(\.reason) == Array(repeating: failure, count: 3))
    }

    @Test func aDownSentinelIsPassedAndTheNextOneVerified() async throws {
        let (outcome, steps) = try await search([b: master], order: [a, b, c])
        #expect(steps == ["ask 26379", "failed 26379", "ask 26380", "verify 6379"])
        guard case .found(let found) = outcome else {
            Issue.record("expected a master, got \(outcome)")
            return
        }
        #expect(found.master == master && found.answer.sentinel == b && found.connection == "connection to 6379")
        #expect(found.attempts == [DiscoveryAttempt(sentinel: a, reason: .connectionRefused)])
    }

    @Test func aSentinelNamingAReplicaIsRejectedAfterROLEAndAPause() async throws {
        let (outcome, steps) = try await search([a: replica, b: master], order: [a, b])
        #expect(steps == ["ask 26379", "verify 6380", "failed 26379", "pause", "ask 26380", "verify 6379"])
        guard case .found(let found) = outcome else {
            Issue.record("expected a master, got \(outcome)")
            return
        }
        #expect(found.attempts == [DiscoveryAttempt(sentinel: a, namedMaster: replica, reason: .notAMaster(role: "replica"))])
    }

    @Test func everySentinelFailingGivesEveryAttempt() async throws {
        let names: [ServerAddress: ServerAddress?] = [b: nil, c: replica]
        let (outcome, _) = try await search(names, order: [a, b, c])
        guard case .exhausted(let attempts) = outcome else {
            Issue.record("expected no master, got \(outcome)")
            return
        }
        let expected: [FailureReason] = [.connectionRefused, .unknownMasterName, .notAMaster(role: "replica")]
        #expect(attempts.map(\.reason) == expected)
    }

    /// The one error that best tells the person what to fix.
    @Test func attemptsAreClassifiedByWhatAnswered() {
        let discovery = Discovery(
            configuration: SentinelClientConfiguration(sentinels: [a], masterName: "m"), logger: .init(label: "test"),
            dial: { _, _, _, _ in throw Refused() })
        func code(_ attempts: [DiscoveryAttempt]) -> SentinelClientError.Code { discovery.classify(attempts).code }
        #expect(code([DiscoveryAttempt(sentinel: a, reason: .connectionRefused)]) == .noSentinelReachable)
        #expect(code([DiscoveryAttempt(sentinel: a, reason: .unknownMasterName)]) == .unknownMasterName)
        #expect(code([DiscoveryAttempt(sentinel: a, reason: .authenticationFailed("WRONGPASS"))]) == .sentinelAuthenticationFailed)
        #expect(
            code([DiscoveryAttempt(sentinel: a, namedMaster: master, reason: .authenticationFailed("WRONGPASS"))])
                == .masterAuthenticationFailed)
        #expect(
            code([
                DiscoveryAttempt(sentinel: a, reason: .unknownMasterName),
                DiscoveryAttempt(sentinel: b, namedMaster: master, reason: .connectionRefused),
            ]) == .noVerifiedMaster)
        let dataNode = DiscoveryAttempt(sentinel: a, reason: .notASentinel(server: "Redis 7.0.15"))
        #expect(code([dataNode]) == .notASentinel)
        #expect(code([dataNode, DiscoveryAttempt(sentinel: b, reason: .connectionRefused)]) == .notASentinel, "the one that answered decides")
        #expect(code([dataNode, DiscoveryAttempt(sentinel: b, reason: .unknownMasterName)]) == .unknownMasterName, "a sentinel answered")
        let unknown = discovery.classify([
            DiscoveryAttempt(sentinel: a, reason: .unknownMasterName, monitoredMasters: ["b", "a"]),
            DiscoveryAttempt(sentinel: b, reason: .unknownMasterName, monitoredMasters: ["a"]),
        ])
        #expect(unknown.description.hasSuffix("The sentinels monitor: 'a', 'b'."), "\(unknown)")
    }

    @Test func infoServerTellsRedisFromValkeyAndClusterFromStandalone() {
        let redis = ServerIdentity(info: "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n")
        #expect(redis.name == "Redis 7.0.15" && redis.failureAsSentinel == .notASentinel(server: "Redis 7.0.15"))
        let valkey = ServerIdentity(info: "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:9.1.2\r\nredis_mode:cluster\r\n")
        #expect(valkey.name == "Valkey 9.1.2" && valkey.failureAsSentinel == .clusterNode(server: "Valkey 9.1.2"))
        #expect(ServerIdentity.describeNonRESP(firstByte: UInt8(ascii: "H")).contains("HTTP"))
        #expect(valkey.supportsCoordinatedFailover && !redis.supportsCoordinatedFailover)
        #expect(!ServerIdentity(info: "server_name:valkey\r\nvalkey_version:8.1.1\r\n").supportsCoordinatedFailover, "Valkey 9 and later")
    }

    @Test func infoTextIsReadAsFields() {
        let info = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n"
            + "slave0:ip=127.0.0.1,port=6380,state=online,offset=1200,lag=0\r\n"
            + "slave1:ip=::1,port=6381,state=online,offset=1100,lag=1\r\nmaster_repl_offset:1200\r\n"
        let fields = InfoText.fields(info)
        #expect(fields["master_repl_offset"] == "1200" && fields["role"] == "master")
        #expect(fields["slave1"] == "ip=::1,port=6381,state=online,offset=1100,lag=1", "a value keeps its own colons")
        #expect(ReplicaFlags.fit("slave") && !ReplicaFlags.fit("slave,s_down") && !ReplicaFlags.fit("slave,disconnected"))
    }
}

/// Steps in the order they were taken, from the search's closures.
final class StepLog: Sendable {
    private let steps = NIOLockedValueBox<[String]>([])
    func add(_ step: String) { steps.withLockedValue { $0.append(step) } }
    var all: [String] { steps.withLockedValue { $0 } }
}

@Suite struct SentinelEventTests {
    @Test func eventsAboutOurMasterItsReplicasAndItsSentinels() {
        #expect(SentinelMessage.isAbout("mymaster", payload: "master mymaster 127.0.0.1 6379"))
        #expect(SentinelMessage.isAbout("mymaster", payload: "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"))
        #expect(SentinelMessage.isAbout("mymaster", payload: "mymaster 127.0.0.1 6379 127.0.0.1 6380"))
        #expect(!SentinelMessage.isAbout("mymaster", payload: "master other 127.0.0.1 6379"))
        #expect(!SentinelMessage.isAbout("mymaster", payload: "slave 127.0.0.1:6380 127.0.0.1 6380 @ other 127.0.0.1 6379"))
    }

    @Test func copiesFromOtherSentinelsAreDroppedWithinTheWindow() {
        var seen = EventDeduplicator(window: .seconds(3))
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
        let first = seen.isNew(channel: "+sdown", payload: "master m 127.0.0.1 6379", at: t0)
        let copy = seen.isNew(channel: "+sdown", payload: "master m 127.0.0.1 6379", at: t0 + .milliseconds(200))
        let otherChannel = seen.isNew(channel: "+odown", payload: "master m 127.0.0.1 6379 #quorum 2/2", at: t0)
        let otherQuorum = seen.isNew(channel: "+odown", payload: "master m 127.0.0.1 6379 #quorum 3/2", at: t0 + .milliseconds(10))
        let later = seen.isNew(channel: "+sdown", payload: "master m 127.0.0.1 6379", at: t0 + .seconds(4))
        #expect(first)
        #expect(!copy, "another sentinel's copy")
        #expect(otherChannel, "another channel is another event")
        #expect(!otherQuorum, "the same instance, whatever the quorum text")
        #expect(later, "after the window it is news again")
    }
}

@Suite struct SentinelURLTests {
    @Test func aURLOfAnotherSchemeIsShownAsASentinelURLWithoutItsPassword() {
        let cases: [(String, String?)] = [
            ("redis://127.0.0.1:26379/mymaster", "redis+sentinel://127.0.0.1:26379/mymaster"),
            ("rediss://u:pw@h:6379/3", "rediss+sentinel://u:***@h:6379/MASTER-NAME/3"),
            ("redis://:pw@h", "redis+sentinel://:***@h/MASTER-NAME"),
            ("redis://u:pa/ss@h/0", "redis+sentinel://u:***@h/MASTER-NAME/0"),
            ("REDIS-SENTINEL://h/m/2", "redis+sentinel://h/m/2"),
            ("valkeys://h:1/m", "rediss+sentinel://h:1/m"),
            ("http://h/m", nil),
            ("mymaster", nil),
        ]
        for (text, expected) in cases {
            #expect(SentinelURL.rewrittenFromOtherScheme(text)?.rewritten == expected, "\(text)")
            #expect(SentinelURL.hasOtherScheme(text) == (expected != nil), "\(text)")
        }
        #expect(throws: SentinelURLError.self) { try SentinelURL("redis://u:pw@h/m") }
        #expect(!SentinelURL.hasOtherScheme("redis+sentinel://h/m"))
    }

    @Test func everyPartOfTheFullForm() throws {
        let url = try SentinelURL("redis+sentinel://app%40x:p%3Ass%20w@10.0.0.1,10.0.0.2:26380,[::1]:26381/my%20master/7?sentinel_user=s&sentinel_pass=t%26u")
        #expect(url.sentinels == [
            ServerAddress(host: "10.0.0.1", port: 26379), ServerAddress(host: "10.0.0.2", port: 26380),
            ServerAddress(host: "::1", port: 26381),
        ])
        #expect(url.masterName == "my master")
        #expect(url.database == 7)
        #expect(url.dataCredentials == Credentials(user: "app@x", password: "p:ss w"))
        #expect(url.sentinelCredentials == Credentials(user: "s", password: "t&u"))
        #expect(!url.tls)
    }

    @Test func theShortFormAndTLS() throws {
        let url = try SentinelURL("rediss+sentinel://sentinel.example/mymaster")
        #expect(url.sentinels == [ServerAddress(host: "sentinel.example", port: 26379)])
        #expect(url.database == nil && url.dataCredentials == nil && url.sentinelCredentials == nil)
        #expect(url.tls)
        let slashed = try SentinelURL("redis+sentinel://u:a/b@c:d@h/m")
        #expect(slashed.dataCredentials == Credentials(user: "u", password: "a/b@c:d"), "a raw '/', '@' and ':' stay in the password")
        let trailing = try SentinelURL("redis+sentinel://:pw@h/m/")
        #expect(trailing.database == nil)
        #expect(trailing.dataCredentials == Credentials(user: nil, password: "pw"), "no user: the default user")
        let configuration = try SentinelClientConfiguration(url: url)
        #expect(configuration.tls.isEnabled && configuration.sentinelTLS.isEnabled, "rediss: TLS to both")
        #expect(!(try SentinelClientConfiguration(url: slashed)).tls.isEnabled)
    }

    @Test func eachMistakeIsNamedWithoutThePassword() {
        let cases = [
            ("h/m", "does not start with"), ("redis://h/m", "redis+sentinel://h/m"), ("redis://u:secret@h/m", "u:***@h/m"), ("x://secret@h/m", "does not start with"), ("redis+sentinel://h", "names no master"),
            ("redis+sentinel:///m", "names no sentinel"), ("redis+sentinel://h:70000/m", "'h:70000'"),
            ("redis+sentinel://h,/m", "'' is not"), ("redis+sentinel://h/m/-1", "database '-1'"),
            ("redis+sentinel://h/m/0/x", "more than"), ("redis+sentinel://h/m?x=1", "other than sentinel_user"),
            ("redis+sentinel://h/m?sentinel_pass=a&secret", "other than sentinel_user"), ("redis+sentinel://u:secret@/m", "names no sentinel"), ("redis+sentinel://u:secret@h", "names no master"),
            ("redis+sentinel://h/m?sentinel_user=u", "no sentinel_pass"),
            ("redis+sentinel://u:secret%2@h/m", "the password has a '%'"), ("redis+sentinel://user@h/m", "no password"),
        ]
        for (text, expected) in cases {
            do {
                _ = try SentinelURL(text)
                Issue.record("\(text) parsed")
            } catch {
                #expect(error.description.contains(expected), "\(text): \(error)")
                #expect(!error.description.contains("secret"), "\(text): the password is not repeated")
            }
        }
    }

    @Test func aBadHostIsShownWithItsControlCharactersEscaped() {
        #expect(throws: SentinelURLError("'a\\u{0}\\u{1B}[2Jb\\u{202E}:' is not a sentinel address (host[:port], port 1 to 65535)")) {
            try SentinelURL("redis+sentinel://a\u{0}\u{1b}[2Jb\u{202e}:/m")
        }
    }
}
