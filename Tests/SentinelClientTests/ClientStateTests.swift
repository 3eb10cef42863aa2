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
