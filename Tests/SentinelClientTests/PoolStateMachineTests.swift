import Testing

@testable import SentinelClient

private final class FakeConnection: Sendable {
    let name: String
    init(_ name: String) { self.name = name }
}

private typealias Pool = PoolStateMachine<FakeConnection>

private func closed(_ actions: [Pool.Action]) -> [String] {
    actions.compactMap { if case .close(let c) = $0 { return c.name } else { return nil } }
}

private func woken(_ actions: [Pool.Action]) -> [UInt64] {
    actions.compactMap { if case .wake(let w) = $0 { return w } else { return nil } }
}

@Suite struct PoolStateMachineTests {
    let a = ServerAddress(host: "127.0.0.1", port: 6379)
    let b = ServerAddress(host: "127.0.0.1", port: 6380)

    @Test func noMasterNoLease() {
        var pool = Pool(maxSize: 2)
        guard case .noMaster = pool.lease(waiter: 1) else { Issue.record("expected noMaster"); return }
    }

    @Test func dialsUpToTheLimitThenWaits() {
        var pool = Pool(maxSize: 2)
        _ = pool.masterVerified(a)
        guard case .dial(let address, let generation) = pool.lease(waiter: 1) else { Issue.record("dial"); return }
        #expect(address == a)
        #expect(pool.dialSucceeded(FakeConnection("c1"), generation: generation).isEmpty)
        guard case .dial = pool.lease(waiter: 2) else { Issue.record("second dial"); return }
        guard case .wait = pool.lease(waiter: 3) else { Issue.record("third must wait"); return }
        #expect(pool.snapshot.leased == 1)
        #expect(pool.snapshot.dialling == 1)
        #expect(pool.snapshot.waiting == 1)
        // The dial fails: the waiter is woken to try again.
        #expect(woken(pool.dialFailed("refused")) == [3])
        #expect(pool.snapshot.lastError == "refused")
    }

    /// A pool of one on master `a` whose connection is leased to waiter 1.
    private func poolLeasing(_ connection: FakeConnection) -> Pool? {
        var pool = Pool(maxSize: 1)
        _ = pool.masterVerified(a)
        guard case .dial(_, let g) = pool.lease(waiter: 1) else {
            Issue.record("expected a dial")
            return nil
        }
        _ = pool.dialSucceeded(connection, generation: g)
        return pool
    }

    @Test func releasedConnectionsAreReusedAndBrokenOnesClosed() {
        let c1 = FakeConnection("c1")
        guard var pool = poolLeasing(c1) else { return }
        #expect(pool.release(c1, healthy: true).isEmpty)
        guard case .use(let reused, _) = pool.lease(waiter: 2) else { Issue.record("reuse"); return }
        #expect(reused === c1)
        #expect(closed(pool.release(c1, healthy: false, error: "reset")) == ["c1"])
        #expect(pool.snapshot.closedTotal == 1)
        #expect(pool.snapshot.idle == 0)
    }

    @Test func aNewMasterClosesIdleAtOnceAndLeasedOnReturn() {
        var pool = Pool(maxSize: 3)
        _ = pool.masterVerified(a)
        let idle = FakeConnection("idle")
        let leased = FakeConnection("leased")
        guard case .dial(_, let g1) = pool.lease(waiter: 1) else { Issue.record("expected a dial"); return }
        _ = pool.dialSucceeded(idle, generation: g1)
        guard case .dial(_, let g2) = pool.lease(waiter: 2) else { Issue.record("expected a dial"); return }
        _ = pool.dialSucceeded(leased, generation: g2)
        _ = pool.release(idle, healthy: true)
        #expect(closed(pool.masterVerified(b)) == ["idle"])
        #expect(pool.generation == 2)
        #expect(closed(pool.release(leased, healthy: true)) == ["leased"])
        guard case .dial(let address, let generation) = pool.lease(waiter: 3) else { Issue.record("dial b"); return }
        #expect(address == b)
        #expect(generation == 2)
    }

    @Test func aDialForAnOldGenerationIsClosed() {
        var pool = Pool(maxSize: 1)
        _ = pool.masterVerified(a)
        guard case .dial(_, let g) = pool.lease(waiter: 1) else { Issue.record("expected a dial"); return }
        _ = pool.masterVerified(b)
        #expect(closed(pool.dialSucceeded(FakeConnection("late"), generation: g)) == ["late"])
    }

    @Test func theSameMasterAgainKeepsTheGeneration() {
        var pool = Pool(maxSize: 1)
        _ = pool.masterVerified(a)
        #expect(pool.masterVerified(a).isEmpty)
        #expect(pool.generation == 1)
    }

    @Test func losingTheMasterStopsLeases() {
        var pool = Pool(maxSize: 2)
        _ = pool.masterVerified(a)
        let c = FakeConnection("c")
        _ = pool.adopt(c, generation: pool.generation)
        #expect(closed(pool.masterLost("refused")) == ["c"])
        guard case .noMaster = pool.lease(waiter: 1) else { Issue.record("noMaster"); return }
        _ = pool.masterVerified(a)
        #expect(pool.generation == 3, "a master found again is a new generation")
    }

    @Test func shutdownClosesIdleWakesWaitersAndRefusesLeases() {
        let c = FakeConnection("c")
        guard var pool = poolLeasing(c) else { return }
        guard case .wait = pool.lease(waiter: 7) else { Issue.record("expected a wait"); return }
        let actions = pool.shutdown()
        #expect(woken(actions) == [7])
        #expect(closed(pool.release(c, healthy: true)) == ["c"])
        guard case .noMaster = pool.lease(waiter: 8) else { Issue.record("refused after shutdown"); return }
    }
}
