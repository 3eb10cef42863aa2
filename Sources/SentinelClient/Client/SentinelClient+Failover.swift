import NIOCore
import RESP

/// A planned failover that loses no acknowledged write: see `coordinatedFailover(_:timeout:)`.
extension SentinelClient {
    /// Reads what a coordinated failover would do now: the verified master, its
    /// replicas with their lag (each replica's own `INFO replication`: the master's
    /// view of it is up to a second old), `SENTINEL CKQUORUM`, and the method the server allows.
    public func failoverPlan() async throws(SentinelClientError) -> FailoverPlan {
        let master = try await verifiedMaster().address
        let control = try await dial(master, configuration.dataHandshake, configuration.connectTimeout)
        defer { control.close(reason: "the failover plan was read") }
        let identity = ServerIdentity(info: try await control.send(RESPCommand("INFO", "server")).string ?? "")
        let masterOffset = InfoText.masterOffset(try await control.send(RESPCommand("INFO", "replication")).string ?? "") ?? 0
        let listed = try await fromFirstAnsweringSentinel { discovery, sentinel in try await discovery.listReplicas(sentinel) }
        let replicas = await Self.concurrently(listed) { [self] replica in
            FailoverPlan.Replica(
                address: replica.address, flags: replica.flags, lagBytes: await offset(of: replica.address).map { masterOffset - $0 },
                healthy: ReplicaFlags.fit(replica.flags))
        }
        let quorum = try? await checkQuorum()
        return FailoverPlan(
            masterName: configuration.masterName, master: master, server: identity.name, masterOffset: masterOffset,
            replicas: replicas, quorum: quorum,
            method: identity.supportsCoordinatedFailover ? .sentinelCoordinated : .writePause)
    }

    /// Moves the master to a replica without losing an acknowledged write, then
    /// follows the switch like any other (the pool moves, `topologyEvents` tell it).
    ///
    /// - `sentinelCoordinated` (Valkey 9 and later): `SENTINEL FAILOVER <name> COORDINATED`.
    /// - `writePause` (Redis): writes are paused on the master (`CLIENT PAUSE ... WRITE`, a
    ///   2-second server-side timeout renewed every 500 ms, so that a client that dies
    ///   mid-way leaves the master paused for 2 seconds at most); every healthy replica is
    ///   waited for until it has the master's offset; `SENTINEL FAILOVER`; once a replica
    ///   reports `ROLE` master, the old master is made its replica (`REPLICAOF`: Sentinel
    ///   cannot do it now, its own commands wait behind its `PUBLISH`, which the pause
    ///   holds back); then writes resume. Writes that waited on the old master get
    ///   `READONLY`: refused, not lost.
    ///
    /// Failure modes, each a `failoverFailed` error that names the step: no healthy
    /// replica, a replica that does not catch up within 2 s, a sentinel that refuses
    /// (`NOGOODSLAVE`, `INPROG`), no promotion within `timeout`, a lost connection. Up to
    /// `SENTINEL FAILOVER` every one of them, and cancellation, resumes writes on the old
    /// master and changes nothing else. After it the switch runs to its end (cancellation
    /// is not heeded); if no replica is promoted within `timeout`, writes resume on the old
    /// master and the error says that Sentinel may still promote one.
    ///
    /// A pause longer than the sentinels' `down-after-milliseconds` makes them flag the
    /// master down; the pause here lasts the catch-up and the promotion, well under a second on
    /// a healthy deployment.
    public func coordinatedFailover(
        _ plan: FailoverPlan, timeout: TimeAmount = .seconds(15)
    ) async throws(SentinelClientError) -> FailoverOutcome {
        let started = NIODeadline.now()
        var outcome: FailoverOutcome
        switch plan.method {
        case .sentinelCoordinated:
            outcome = try await failoverBySentinel(plan, until: started + timeout)
        case .writePause:
            outcome = try await failoverWithWritePause(plan, until: started + timeout)
        }
        await reconcile(reason: "a coordinated failover to \(outcome.newMaster)")
        outcome.total = .now() - started
        return outcome
    }

    // MARK: Valkey: the server coordinates

    private func failoverBySentinel(_ plan: FailoverPlan, until deadline: NIODeadline) async throws(SentinelClientError) -> FailoverOutcome {
        let reply = try await requestFailover(coordinated: true)
        if let message = reply.errorMessage {
            throw .failoverFailed("Sentinel refused it (\(message))", master: plan.master, after: "nothing was changed")
        }
        let newMaster = try await sentinelsNameAnotherMaster(than: plan.master, until: deadline)
        return FailoverOutcome(oldMaster: plan.master, newMaster: newMaster, method: plan.method, total: .zero)
    }

    /// Polls `get-master-addr-by-name` every 20 ms, on one held sentinel connection (the
    /// next sentinel's when it fails), until it names a master other than `old`.
    private func sentinelsNameAnotherMaster(than old: ServerAddress, until deadline: NIODeadline) async throws(SentinelClientError) -> ServerAddress {
        let sentinels = state.topology.sentinels.map(\.address)
        let question = RESPCommand("SENTINEL", "get-master-addr-by-name", configuration.masterName)
        var connection: RedisConnection?
        defer { connection?.close(reason: "the failover is over") }
        var tried = 0
        while NIODeadline.now() < deadline, !sentinels.isEmpty {
            if connection == nil {
                connection = try? await dial(
                    sentinels[tried % sentinels.count], configuration.sentinelHandshake, configuration.connectTimeout,
                    commandTimeout: .some(FailoverSteps.replyTimeout))
                tried += 1
            }
            if let asked = connection {
                do {
                    if let named = Discovery.namedMaster(try await FailoverSteps.send(question, on: asked)), named != old { return named }
                } catch {
                    asked.close(reason: "the sentinel did not answer during the failover")
                    connection = nil
                    continue
                }
            }
            await FailoverSteps.pause(.milliseconds(20), on: group)
        }
        throw .failoverFailed(
            "the sentinels named no new master within the timeout", master: old,
            after: "the failover may still complete: SENTINEL MASTER shows where it stands")
    }

    // MARK: Redis: a write pause around SENTINEL FAILOVER

    private func failoverWithWritePause(_ plan: FailoverPlan, until deadline: NIODeadline) async throws(SentinelClientError) -> FailoverOutcome {
        let candidates = plan.replicas.filter(\.healthy).map(\.address)
        guard !candidates.isEmpty else {
            throw .failoverFailed("no healthy replica to promote", master: plan.master, after: "nothing was changed")
        }
        let control = try await dialForFailover(plan.master)
        defer { control.close(reason: "the failover is over") }
        var replicas: [ServerAddress: RedisConnection] = [:]
        defer { for connection in replicas.values { connection.close(reason: "the failover is over") } }
        for address in candidates {
            do {
                replicas[address] = try await dialForFailover(address)
            } catch {
                throw .failoverFailed("replica \(address) could not be reached (\(error))", master: plan.master, after: "nothing was changed")
            }
        }
        let steps = FailoverSteps(master: plan.master, control: control, replicas: replicas, sentinel: self)
        try await steps.pauseWrites()
        let pausedAt = NIODeadline.now()
        let result: Result<(ServerAddress, Int64, Int64), SentinelClientError> = await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await steps.renewPauseUntilCancelled() }
            defer { tasks.cancelAll() }
            do throws(SentinelClientError) {
                return .success(try await steps.switchMaster(until: deadline))
            } catch {
                return .failure(error)
            }
        }
        let resumed = await steps.resumeWrites()
        let held = NIODeadline.now() - pausedAt
        switch result {
        case .success(let (newMaster, masterOffset, promotedOffset)):
            return FailoverOutcome(
                oldMaster: plan.master, newMaster: newMaster, method: .writePause, writesHeld: held,
                masterOffset: masterOffset, promotedOffset: promotedOffset, total: .zero)
        case .failure(let error):
            throw resumed ? error : .failoverFailed(
                "\(error.description); CLIENT UNPAUSE failed too", master: plan.master,
                after: "the pause ends by itself within 2 s")
        }
    }

    /// A replica's own replication offset (`slave_repl_offset`), or nil when it cannot be read.
    nonisolated private func offset(of replica: ServerAddress) async -> Int64? {
        guard let connection = try? await dialForFailover(replica) else { return nil }
        defer { connection.close(reason: "the offset was read") }
        return InfoText.replicaOffset((try? await connection.send(RESPCommand("INFO", "replication")))?.string ?? "")
    }

    /// A connection for the failover's steps: every reply within a second, so that a
    /// hung node fails its step instead of holding the pause; left open when the client
    /// follows the switch it makes (the old master still needs REPLICAOF and UNPAUSE).
    nonisolated func dialForFailover(_ address: ServerAddress) async throws(SentinelClientError) -> RedisConnection {
        try await dial(
            address, configuration.dataHandshake, configuration.connectTimeout, commandTimeout: .some(FailoverSteps.replyTimeout),
            keptOnMasterChange: true)
    }

    /// `SENTINEL FAILOVER <name> [COORDINATED]` on the first sentinel that answers.
    func requestFailover(coordinated: Bool) async throws(SentinelClientError) -> RESPValue {
        try await fromFirstAnsweringSentinel { discovery, sentinel in try await discovery.failover(sentinel, coordinated: coordinated) }
    }
}
