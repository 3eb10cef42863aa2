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
        guard case .noMaster = pool.lease(waiter: 1, master: nil) else { Issue.record("expected noMaster"); return }
    }

    @Test func dialsUpToTheLimitThenWaits() {
        var pool = Pool(maxSize: 2)
        _ = pool.masterChanged()
        guard case .dial(let address, let generation) = pool.lease(waiter: 1, master: a) else { Issue.record("dial"); return }
        #expect(address == a)
        #expect(pool.dialSucceeded(FakeConnection("c1"), generation: generation).isEmpty)
        guard case .dial = pool.lease(waiter: 2, master: a) else { Issue.record("second dial"); return }
        guard case .wait = pool.lease(waiter: 3, master: a) else { Issue.record("third must wait"); return }
        #expect(pool.snapshot(master: a).leased == 1)
        #expect(pool.snapshot(master: a).dialling == 1)
        #expect(pool.snapshot(master: a).waiting == 1)
        // The dial fails: the waiter is woken to try again.
        #expect(woken(pool.dialFailed("refused")) == [3])
        #expect(pool.snapshot(master: a).lastError == "refused")
    }

    /// A pool of one on master `a` whose connection is leased to waiter 1.
    private func poolLeasing(_ connection: FakeConnection) -> Pool? {
        var pool = Pool(maxSize: 1)
        _ = pool.masterChanged()
        guard case .dial(_, let g) = pool.lease(waiter: 1, master: a) else {
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
        guard case .use(let reused, _) = pool.lease(waiter: 2, master: a) else { Issue.record("reuse"); return }
        #expect(reused === c1)
        #expect(closed(pool.release(c1, healthy: false, error: "reset")) == ["c1"])
        #expect(pool.snapshot(master: a).closedTotal == 1)
        #expect(pool.snapshot(master: a).idle == 0)
    }

    @Test func aNewMasterClosesIdleAtOnceAndLeasedOnReturn() {
        var pool = Pool(maxSize: 3)
        _ = pool.masterChanged()
        let idle = FakeConnection("idle")
        let leased = FakeConnection("leased")
        guard case .dial(_, let g1) = pool.lease(waiter: 1, master: a) else { Issue.record("expected a dial"); return }
        _ = pool.dialSucceeded(idle, generation: g1)
        guard case .dial(_, let g2) = pool.lease(waiter: 2, master: a) else { Issue.record("expected a dial"); return }
        _ = pool.dialSucceeded(leased, generation: g2)
        _ = pool.release(idle, healthy: true)
        #expect(closed(pool.masterChanged()) == ["idle"])
        #expect(pool.generation == 2)
        #expect(closed(pool.release(leased, healthy: true)) == ["leased"])
        guard case .dial(let address, let generation) = pool.lease(waiter: 3, master: b) else { Issue.record("dial b"); return }
        #expect(address == b)
        #expect(generation == 2)
    }

    @Test func aDialForAnOldGenerationIsClosed() {
        var pool = Pool(maxSize: 1)
        _ = pool.masterChanged()
        guard case .dial(_, let g) = pool.lease(waiter: 1, master: a) else { Issue.record("expected a dial"); return }
        _ = pool.masterChanged()
        #expect(closed(pool.dialSucceeded(FakeConnection("late"), generation: g)) == ["late"])
    }

    @Test func losingTheMasterStopsLeases() {
        var pool = Pool(maxSize: 2)
        _ = pool.masterChanged()
        let c = FakeConnection("c")
        _ = pool.adopt(c, generation: pool.generation)
        #expect(closed(pool.masterLost("refused")) == ["c"])
        guard case .noMaster = pool.lease(waiter: 1, master: nil) else { Issue.record("noMaster"); return }
        _ = pool.masterChanged()
        #expect(pool.generation == 3, "a master found again is a new generation")
    }

    @Test func shutdownClosesIdleWakesWaitersAndRefusesLeases() {
        let c = FakeConnection("c")
        guard var pool = poolLeasing(c) else { return }
        guard case .wait = pool.lease(waiter: 7, master: a) else { Issue.record("expected a wait"); return }
        let actions = pool.shutdown()
        #expect(woken(actions) == [7])
        #expect(closed(pool.release(c, healthy: true)) == ["c"])
        guard case .noMaster = pool.lease(waiter: 8, master: a) else { Issue.record("refused after shutdown"); return }
    }
}
