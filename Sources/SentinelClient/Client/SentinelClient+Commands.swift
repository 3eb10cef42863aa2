import NIOCore
import RESP

/// Commands on the master: the pool's leases and the failover rules of `execute`.
extension SentinelClient {
    /// Runs one command on the master. A command that certainly did not run is
    /// retried after a failover; one that may have run is retried only when it is
    /// read-only (COMMAND INFO flags), otherwise its in-doubt error is thrown.
    /// An error reply is a value (`RESPValue.error`), not a throw.
    public func execute(_ command: RESPCommand) async throws(SentinelClientError) -> RESPValue {
        let (reply, lease) = try await execute(command, on: nil)
        release(lease, healthy: true)
        return reply
    }

    /// Runs the commands in one flush on one connection; one result per command,
    /// in order. Nothing is retried: an interrupted command reports in doubt or not sent.
    public func execute(_ commands: [RESPCommand]) async throws(SentinelClientError) -> [Result<RESPValue, SentinelClientError>] {
        let lease = try await lease()
        let results = await lease.connection.pipeline(commands)
        let failed = results.contains { if case .failure = $0 { return true } else { return false } }
        release(lease, healthy: !failed)
        if failed { await reconcile(reason: "a pipelined command failed") }
        return results
    }

    /// Leases a connection to the master for `body` and gives it back afterwards,
    /// also when `body` throws (then the connection is closed, not reused: its
    /// state is unknown). Connection state (SELECT, MULTI, WATCH) set in `body`
    /// must be undone in `body`.
    public func withConnection<T: Sendable>(
        _ body: @Sendable (RedisConnection) async throws -> T
    ) async throws -> T {
        let lease = try await lease()
        do {
            let value = try await body(lease.connection)
            release(lease, healthy: true)
            return value
        } catch {
            release(lease, healthy: false, error: "\(error)")
            throw error
        }
    }

    /// Runs one command on a pinned connection (a session that keeps SELECT, MULTI
    /// or WATCH state across commands), with the failover rules of `execute(_:)`.
    /// When the pinned connection is gone or belongs to an old master, a new one is
    /// leased and `prepare` runs on it first (to restore SELECT, say). Returns the
    /// reply and the connection it ran on, which the caller keeps and later releases.
    ///
    /// With `stayOnPinned` (the connection holds MULTI or WATCH state), the command
    /// runs on `pinned` or not at all: no other connection, no retry; a lost
    /// connection throws `pinnedConnectionLost`, and a READONLY reply is returned.
    public func execute(
        _ command: RESPCommand, on pinned: LeasedConnection?,
        prepare: (@Sendable (RedisConnection) async throws -> Void)? = nil,
        stayOnPinned: Bool = false
    ) async throws(SentinelClientError) -> (reply: RESPValue, lease: LeasedConnection) {
        await waitWhileHolding(until: .now() + configuration.masterWaitTimeout)
        var current = pinned
        if let lease = pinned, !isUsable(lease) {
            let reason = lease.connection.isActive ? "the master changed" : "the connection closed"
            release(lease, healthy: false)
            current = nil
            if stayOnPinned {
                await reconcile(reason: "the pinned connection to \(lease.connection.address) is gone")
                throw .pinnedConnectionLost(command: command.name, address: lease.connection.address, reason: reason)
            }
        }
        let attempts = stayOnPinned ? 1 : 3
        for attempt in 1...attempts {
            // After the first pass `current` is nil: a retry always takes a fresh lease.
            let lease: LeasedConnection
            if let current { lease = current } else { lease = try await leasePrepared(prepare, for: command) }
            current = nil
            let reply: RESPValue
            do {
                reply = try await lease.connection.send(command)
            } catch {
                release(lease, healthy: false, error: error.description)
                if Task.isCancelled { throw error }
                await reconcile(reason: "a command failed: \(error)")
                guard attempt < attempts, await mayResend(command, after: error, pinned: stayOnPinned) else { throw error }
                continue
            }
            if attempt < attempts, ResendRule.refusedByDemotedMaster(reply, pinned: stayOnPinned) {
                release(lease, healthy: false, error: reply.errorMessage)
                await reconcile(reason: "READONLY from \(lease.connection.address)")
                continue
            }
            return (reply, lease)
        }
        preconditionFailure("the last attempt returns or throws")
    }

    /// `ResendRule` for `command`, asking the master whether it is read-only when the rule needs to know.
    public func mayResend(_ command: RESPCommand, after error: SentinelClientError, pinned: Bool = false) async -> Bool {
        switch ResendRule.after(error, pinned: pinned) {
        case .resend: return true
        case .never: return false
        case .ifReadOnly: return await isReadOnly(command)
        }
    }

    private func leasePrepared(
        _ prepare: (@Sendable (RedisConnection) async throws -> Void)?, for command: RESPCommand
    ) async throws(SentinelClientError) -> LeasedConnection {
        while true {
            let lease = try await lease()
            do { try await prepare?(lease.connection) } catch {
                release(lease, healthy: false, error: "\(error)")
                throw .preparationFailed(command: command.name, address: lease.connection.address, error: error)
            }
            // A hold or a switch while `prepare` ran: the command waits for its outcome.
            if isUsable(lease) { return lease }
            release(lease, healthy: true)
        }
    }

    /// Whether a leased connection can still serve: open, to the current master, and
    /// no promotion followed now (then new commands wait: see `awaitFailoverDecision`).
    package func isUsable(_ lease: LeasedConnection) -> Bool {
        state.isUsable(generation: lease.generation, lease.connection)
    }

    /// Returns once commands are not held for a promotion (at once when none is
    /// followed), or after `masterWaitTimeout`. `lease()` and `execute` wait by themselves;
    /// a caller that writes on a connection it keeps calls this before `isUsable`.
    package func awaitFailoverDecision() async {
        await waitWhileHolding(until: .now() + configuration.masterWaitTimeout)
    }

    /// Takes a connection to the current master, waiting (up to `masterWaitTimeout`)
    /// for a master during a failover or for a free slot when the pool is full.
    /// Give it back with `release`; `withConnection` does both.
    public func lease() async throws(SentinelClientError) -> LeasedConnection {
        let deadline = NIODeadline.now() + configuration.masterWaitTimeout
        while true {
            await waitWhileHolding(until: deadline)
            switch state.lease() {
            case .fail(let error): throw error
            case .use(let connection, let generation):
                let lease = LeasedConnection(connection: connection, generation: generation)
                if connection.isActive { return lease }
                release(lease, healthy: false)
            case .dial(let address, let generation):
                if let lease = try await dialForLease(address, generation: generation) { return lease }
            case .waitForSlot(let waiter):
                await park(waiter, for: .slot, until: deadline)
            case .noMaster:
                if NIODeadline.now() >= deadline { break }
                await reconcile(reason: "a command waits for a master")
                if state.servedMaster == nil {
                    try? await Task.sleep(nanoseconds: UInt64(configuration.unreachableRetryInterval.nanoseconds))
                }
            }
            if Task.isCancelled { throw .cancelled }
            if NIODeadline.now() >= deadline {
                throw .masterUnavailable(
                    masterName: configuration.masterName,
                    waitedMilliseconds: Int(configuration.masterWaitTimeout.nanoseconds / 1_000_000),
                    lastError: state.poolSnapshot.lastError)
            }
        }
    }

    /// The pool asked for a new connection: the lease, or nil when the pool kept or
    /// closed it (a hold began, or the master moved, while dialling) or the dial failed.
    private func dialForLease(_ address: ServerAddress, generation: Int) async throws(SentinelClientError) -> LeasedConnection? {
        let connection: RedisConnection
        do {
            connection = try await dial(address, configuration.dataHandshake, configuration.connectTimeout)
        } catch {
            perform(state.dialFailed(error.description))
            if error.code == .shutDown { throw error }
            if case .authenticationFailed(let message) = error.reason {
                throw .masterAuthenticationFailed(address: address, message: message)
            }
            await reconcile(reason: "could not connect to the master: \(error)")
            return nil
        }
        let (outcome, actions) = state.dialSucceeded(connection, generation: generation)
        perform(actions)
        return outcome == .use ? LeasedConnection(connection: connection, generation: generation) : nil
    }

    /// Gives a leased connection back; an unhealthy one is closed, never reused.
    public func release(_ lease: LeasedConnection, healthy: Bool, error: String? = nil) {
        perform(state.release(lease.connection, healthy: healthy, error: error))
    }

    /// Whether re-running `command` is harmless: COMMAND INFO on the master flags it
    /// `readonly` and not `write`. Cached per name; false when the master cannot say.
    public func isReadOnly(_ command: RESPCommand) async -> Bool {
        let name = command.name.lowercased()
        if let known = state.readOnly(name) { return known }
        guard let lease = try? await lease() else { return false }
        let reply = try? await lease.connection.send(RESPCommand("COMMAND", "INFO", name))
        release(lease, healthy: reply != nil)
        guard let info = reply?.elements?.first?.elements, info.count > 2, let flags = info[2].elements else {
            return false
        }
        let names = Set(flags.compactMap(\.string))
        let readOnly = names.contains("readonly") && !names.contains("write")
        state.learned(readOnly: readOnly, of: name)
        return readOnly
    }

    // MARK: Parked callers

    /// Waits while commands are held for a promotion, up to `deadline`.
    func waitWhileHolding(until deadline: NIODeadline) async {
        guard state.holdsCommands else { return }
        await park(state.makeWaiterID(), for: .hold, until: deadline)
    }

    /// Suspends until the state machine resumes the caller, the deadline passes or the
    /// task is cancelled, whichever comes first.
    private func park(_ waiter: StateMachine.WaiterID, for reason: ParkedWaiters<Waiter>.Reason, until deadline: NIODeadline) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(max(0, (deadline - .now()).nanoseconds)))
                await self.stopWaiting(waiter, for: reason)
            }
            await withCheckedContinuation { continuation in
                perform(state.park(waiter, for: reason, continuation))
                if Task.isCancelled { perform(state.stopWaiting(waiter, for: reason)) }
            }
            group.cancelAll()
        }
    }

    private func stopWaiting(_ waiter: StateMachine.WaiterID, for reason: ParkedWaiters<Waiter>.Reason) {
        perform(state.stopWaiting(waiter, for: reason))
    }
}
