import NIOCore
import RESP

/// Asking Sentinel again and verifying with ROLE: on request, on events and periodically.
extension SentinelClient {
    /// Asks Sentinel again and verifies with ROLE; returns once a run that started
    /// after this call has ended. Concurrent calls share runs.
    package func reconcile(reason: String) async {
        await withCheckedContinuation { perform(state.requestReconcile(reason: reason, waiter: $0)) }
    }

    /// Performs the runs the state machine asks for, until cancelled.
    func reconcileLoop() async {
        for await _ in reconcileWakes.stream {
            var again = true
            while again {
                await reconcileOnce()
                let (runAgain, actions) = state.reconcileRunFinished()
                perform(actions)
                again = runAgain
            }
        }
    }

    private func reconcileOnce() async {
        guard state.isRunning else { return }
        do {
            let result = try await makeDiscovery().run(order: state.topology.sentinels.map(\.address)) { attempt, answer in
                await self.observe(attempt, answer)
            }
            guard state.isRunning else { return result.connection.close(reason: "the client is shutting down") }
            if await earlyMasterStays(named: result.master) {
                result.connection.close(reason: "the sentinels still name the old master after an early switch")
                return
            }
            // The INFO read below may see an early switch install another master: the
            // result says which master it was based on.
            let before = state.topology.master?.address
            let moving = before.map { $0 != result.master } ?? false
            let promotedAt = moving ? await promotionOffset(on: result.connection) : nil
            perform(
                state.discovered(
                    result.master, role: result.role, connection: result.connection, answeredBy: result.answeredBy.sentinel,
                    attempts: result.attempts, basedOn: before, promotedAt: promotedAt, now: .now()))
        } catch {
            // Cut short by the shutdown: performShutdown tells the waiters it was that.
            guard state.isRunning, !Task.isCancelled else { return }
            if await earlyMasterStays(named: nil) { return }
            let (kept, actions) = state.discoveryFailed(error)
            if kept { logger.notice("master kept", metadata: ["error": "\(error)"]) }
            perform(actions)
        }
    }

    private func observe(_ attempt: DiscoveryAttempt?, _ answer: SentinelAnswer?) {
        perform(state.observe(attempt, answer))
    }

    /// After an early switch, whether a reconcile that found `named` (nil: none) keeps
    /// the early master: the sentinels still name the old one and ROLE on the early one
    /// still says master. Otherwise the reconcile goes on as usual.
    private func earlyMasterStays(named: ServerAddress?) async -> Bool {
        guard let candidate = state.earlySwitchCandidate else { return false }
        var stillMaster = false
        if named != candidate, case .success(let (_, connection)) = await makeDiscovery().verify(candidate) {
            connection.close(reason: "early master checked")
            stillMaster = true
        }
        let (stays, actions) = state.earlyMasterStays(
            candidate: candidate, named: named, stillMaster: stillMaster, now: .now(), grace: configuration.earlySwitchGrace)
        perform(actions)
        return stays
    }

    /// The offset at which a promoted master stopped following its old master:
    /// `second_repl_offset` - 1 (`INFO replication`); nil when it was never promoted.
    func promotionOffset(on connection: RedisConnection) async -> Int64? {
        let info = try? await withDeadline(configuration.sentinelTryTimeout) {
            try await connection.send(RESPCommand("INFO", "replication"))
        }
        guard let text = info?.string else { return nil }
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("second_repl_offset:") {
            guard let value = Int64(line.dropFirst("second_repl_offset:".count)), value > 0 else { return nil }
            return value - 1
        }
        return nil
    }

    /// Reconciles every `reconcileInterval` (more often while no master is reachable),
    /// and asks every known sentinel at that pace how it stands on the master.
    /// After a switch the agreement is probed again within a tick: the old verdict's marks
    /// would mislead until then.
    func reconcilePeriodically() async {
        // The first probe after one interval, not at start-up: a short session never pays for it.
        var lastProbe = NIODeadline.now()
        var lastReconcile = NIODeadline.now()
        let tick = TimeAmount.milliseconds(250)
        while !Task.isCancelled {
            let now = NIODeadline.now()
            if state.topology.agreementStale || now - lastProbe >= configuration.reconcileInterval {
                lastProbe = now
                await checkAgreement()
            }
            let interval = state.topology.masterReachable ? configuration.reconcileInterval : configuration.unreachableRetryInterval
            if NIODeadline.now() - lastReconcile >= interval {
                lastReconcile = .now()
                await reconcile(reason: "periodic check")
            }
            do { try await Task.sleep(nanoseconds: UInt64(min(tick, interval).nanoseconds)) } catch { return }
        }
    }

    /// While a promotion is followed the sentinels lag on purpose: no verdict then.
    private func checkAgreement() async {
        guard state.topology.promotion == nil else { return }
        let probes = await probeSentinels()
        guard !Task.isCancelled else { return }
        perform(state.probed(probes))
    }
}
