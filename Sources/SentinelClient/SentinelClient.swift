import Logging
import NIOCore
import NIOPosix
import RESP
import ServiceLifecycle

/// A connection taken from the pool; give it back with `release`.
public struct LeasedConnection: Sendable {
    public let connection: RedisConnection
    /// The pool generation it was leased in; `SentinelClient.isUsable(_:)` compares it.
    public let generation: Int
}

/// A Sentinel-aware Redis client: finds the master through Sentinel, verifies
/// it with ROLE, pools connections to it, and follows failovers.
///
/// Run it as a swift-service-lifecycle `Service` (or call `run()` in a task of
/// your own): `run()` owns the sentinel watchers and the reconcile loop, and on
/// its way out (graceful shutdown, cancellation or `shutdown()`) it stops them,
/// fails waiting commands, and closes every connection, in that order.
/// One actor owns all mutable state; connections live on their event loops.
/// `deinit` does no I/O.
public actor SentinelClient: Service {
    public nonisolated let configuration: SentinelClientConfiguration
    nonisolated let group: any EventLoopGroup
    nonisolated let logger: Logger
    private nonisolated let registry = ConnectionRegistry()
    private nonisolated let broadcaster = EventBroadcaster<TopologyEvent>()
    /// Finished by `shutdown()` or a graceful shutdown: `run()` then stops.
    private nonisolated let stopRequests: AsyncStream<Void>
    private nonisolated let stopRequested: AsyncStream<Void>.Continuation
    /// Wakes the reconcile loop when the state machine starts a run.
    private nonisolated let reconcileWakes: AsyncStream<Void>
    private nonisolated let reconcileWake: AsyncStream<Void>.Continuation
    /// Wakes the promotion loop when Sentinel selects a replica for our master.
    private nonisolated let promotionWakes: AsyncStream<Void>
    private nonisolated let promotionWake: AsyncStream<Void>.Continuation
    /// Sentinels to start a watcher for (configured ones, then learned ones).
    private nonisolated let watcherStarts: AsyncStream<ServerAddress>
    private nonisolated let watcherStart: AsyncStream<ServerAddress>.Continuation

    private enum Lifecycle { case idle, running, stopping, stopped }
    private var lifecycle = Lifecycle.idle
    private var pool: PoolStateMachine<RedisConnection>
    private var reconciler = ReconcileStateMachine<CheckedContinuation<Void, Never>>()
    private var topology: TopologyState
    private var waiters: [PoolStateMachine<RedisConnection>.WaiterID: CheckedContinuation<Void, Never>] = [:]
    /// Commands waiting while a promotion is followed.
    private var holdWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var watched: Set<ServerAddress> = []
    private var nextWaiterID: UInt64 = 0
    private var watcherConnections: [ServerAddress: RedisConnection] = [:]
    private var readOnlyCommands: [String: Bool] = [:]
    private var shownEvents = EventDeduplicator()
    /// The outcome of the first discovery, and who waits for it.
    private var firstDiscovery: Result<MasterInfo, SentinelClientError>?
    private var firstDiscoveryWaiters: [CheckedContinuation<Result<MasterInfo, SentinelClientError>, Never>] = []
    private var stoppedWaiters: [CheckedContinuation<Void, Never>] = []
    /// The replica `execute(_:readFrom:)` reads from, while it serves.
    private var readReplica: RedisConnection?
    /// Round-robin over the healthy replicas; a random start spreads clients that start together.
    private var replicaTurn = Int.random(in: 0..<1024)

    /// - Parameters:
    ///   - configuration: the sentinels, the master's name, credentials and timeouts.
    ///   - eventLoopGroup: where connections live; the caller owns it (the shared singleton by default).
    ///   - logger: discovery tries, ROLE checks, events and reconnects are logged here.
    public init(
        configuration: SentinelClientConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.group = eventLoopGroup
        self.logger = logger
        self.pool = PoolStateMachine(maxSize: configuration.poolSize)
        self.topology = TopologyState(
            masterName: configuration.masterName, sentinels: configuration.sentinels,
            selectionLifetime: configuration.promotionWaitTimeout)
        (stopRequests, stopRequested) = AsyncStream.makeStream(of: Void.self)
        (reconcileWakes, reconcileWake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (promotionWakes, promotionWake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (watcherStarts, watcherStart) = AsyncStream.makeStream(of: ServerAddress.self)
    }

    // MARK: Running

    /// Finds and verifies the master, then follows it until a graceful shutdown,
    /// cancellation or `shutdown()`; then shuts down in order and returns.
    /// Call it once. `verifiedMaster()` tells how the first discovery went.
    public func run() async {
        guard lifecycle == .idle else {
            // After an early shutdown() run() just returns; a second run() is a mistake.
            if lifecycle == .running { logger.error("SentinelClient.run() called more than once") }
            return
        }
        lifecycle = .running
        let stop = stopRequested
        await withTaskCancellationOrGracefulShutdownHandler {
            await self.superviseUntilStopped()
        } onCancelOrGracefulShutdown: {
            stop.finish()
        }
        await performShutdown()
    }

    /// Waits for the first discovery to end: the master it verified, or the error
    /// that names every sentinel tried. The client keeps looking after a failure.
    public func verifiedMaster() async throws(SentinelClientError) -> MasterInfo {
        let outcome: Result<MasterInfo, SentinelClientError>
        if let known = firstDiscovery {
            outcome = known
        } else if lifecycle == .stopping || lifecycle == .stopped {
            outcome = .failure(.shutDown)
        } else {
            outcome = await withCheckedContinuation { firstDiscoveryWaiters.append($0) }
        }
        return try outcome.get()
    }

    /// Asks `run()` to stop and waits until its ordered shutdown is done. Safe to
    /// call more than once, and before `run()` (then `run()` returns at once).
    public func shutdown() async {
        stopRequested.finish()
        switch lifecycle {
        case .idle:
            lifecycle = .stopping
            await performShutdown()
        case .running, .stopping:
            await withCheckedContinuation { stoppedWaiters.append($0) }
        case .stopped:
            return
        }
    }

    private func superviseUntilStopped() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.maintainTopology() }
            for await _ in stopRequests {}
            lifecycle = .stopping
            await unsubscribeWatchers()
            group.cancelAll()
        }
    }

    /// The first discovery, then the watchers and the reconcile loop, until cancelled.
    private func maintainTopology() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.reconcileLoop() }
            await reconcile(reason: "start")
            guard !Task.isCancelled else { return }
            guard configuration.followFailovers else { return }
            group.addTask { await self.reconcilePeriodically() }
            if configuration.followPromotions { group.addTask { await self.promotionLoop() } }
            for sentinel in topology.sentinels.map(\.address) { startWatcher(sentinel) }
            // Ends when cancelled: each sentinel gets its watcher, learned ones too.
            for await sentinel in watcherStarts {
                group.addTask { await self.watch(sentinel) }
            }
        }
    }

    private func startWatcher(_ sentinel: ServerAddress) {
        guard configuration.followFailovers, watched.count < configuration.watchedSentinels,
            watched.insert(sentinel).inserted
        else { return }
        watcherStart.yield(sentinel)
    }

    // MARK: Commands

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
        let retries = stayOnPinned ? 1 : 3
        for attempt in 1...retries {
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
                guard attempt < retries else { throw error }
                if error.certainlyNotRun { continue }
                if error.code == .commandInDoubt, await isReadOnly(command) { continue }
                throw error
            }
            if reply.errorCode == "READONLY", attempt < retries {
                // A demoted master refused the write: it did not run, and the master moved.
                release(lease, healthy: false, error: reply.errorMessage)
                await reconcile(reason: "READONLY from \(lease.connection.address)")
                continue
            }
            return (reply, lease)
        }
        preconditionFailure("the last attempt returns or throws")
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
    public func isUsable(_ lease: LeasedConnection) -> Bool {
        lease.generation == pool.generation && lease.connection.isActive && topology.promotion?.holdsCommands != true
    }

    /// Returns once commands are not held for a promotion (at once when none is
    /// followed), or after `masterWaitTimeout`. `lease()` and `execute` wait by themselves;
    /// a caller that writes on a connection it keeps calls this before `isUsable`.
    public func awaitFailoverDecision() async {
        await waitWhileHolding(until: .now() + configuration.masterWaitTimeout)
    }

    /// Takes a connection to the current master, waiting (up to `masterWaitTimeout`)
    /// for a master during a failover or for a free slot when the pool is full.
    /// Give it back with `release`; `withConnection` does both.
    public func lease() async throws(SentinelClientError) -> LeasedConnection {
        let deadline = NIODeadline.now() + configuration.masterWaitTimeout
        while true {
            await waitWhileHolding(until: deadline)
            switch lifecycle {
            case .idle: throw .notRunning
            case .stopping, .stopped: throw .shutDown
            case .running: break
            }
            nextWaiterID += 1
            let waiter = nextWaiterID
            switch pool.lease(waiter: waiter) {
            case .use(let connection, let generation):
                let lease = LeasedConnection(connection: connection, generation: generation)
                if connection.isActive { return lease }
                release(lease, healthy: false)
            case .dial(let address, let generation):
                do {
                    let connection = try await dial(address, configuration.dataHandshake, configuration.connectTimeout)
                    let actions = pool.dialSucceeded(connection, generation: generation)
                    perform(actions)
                    let lease = LeasedConnection(connection: connection, generation: generation)
                    // A hold that began while dialling: the connection waits in the pool.
                    if actions.isEmpty, topology.promotion?.holdsCommands == true {
                        release(lease, healthy: true)
                    } else if actions.isEmpty {
                        return lease
                    }
                } catch {
                    perform(pool.dialFailed(error.description))
                    if error.code == .shutDown { throw error }
                    if case .authenticationFailed(let message) = error.reason {
                        throw .masterAuthenticationFailed(address: address, message: message)
                    }
                    await reconcile(reason: "could not connect to the master: \(error)")
                }
            case .wait:
                await suspend(waiter, for: .slot, until: deadline)
            case .noMaster:
                if NIODeadline.now() >= deadline { break }
                await reconcile(reason: "a command waits for a master")
                if pool.master == nil {
                    try? await Task.sleep(nanoseconds: UInt64(configuration.unreachableRetryInterval.nanoseconds))
                }
            }
            if Task.isCancelled { throw .cancelled }
            if NIODeadline.now() >= deadline {
                throw .masterUnavailable(
                    masterName: configuration.masterName,
                    waitedMilliseconds: Int(configuration.masterWaitTimeout.nanoseconds / 1_000_000),
                    lastError: pool.snapshot.lastError)
            }
        }
    }

    /// Gives a leased connection back; an unhealthy one is closed, never reused.
    public func release(_ lease: LeasedConnection, healthy: Bool, error: String? = nil) {
        perform(pool.release(lease.connection, healthy: healthy && lease.connection.isActive, error: error))
    }

    // MARK: Observable state

    public var poolSnapshot: PoolSnapshot { pool.snapshot }
    public var master: MasterInfo? { topology.master }
    public var knownSentinels: [SentinelInfo] { topology.sentinels }
    public var failoversFollowed: Int { topology.failovers }
    /// The sentinels' stand on the master in use, as of the last probe of them all; nil before the first.
    public var sentinelAgreement: SentinelAgreement? { topology.agreement }
    /// False from a failed check of the master until one succeeds again.
    public var isMasterReachable: Bool { topology.masterReachable }
    /// The failed tries of the last successful discovery (empty when the first sentinel answered).
    public var lastDiscoveryAttempts: [DiscoveryAttempt] { topology.discoveryAttempts }
    /// Connections open right now, data nodes and sentinels together.
    public nonisolated var openConnections: Int { registry.count }

    /// Topology changes from now on, for each caller its own stream (a prompt, a
    /// metrics exporter). The stream ends when the client shuts down; a slow reader
    /// keeps the newest 256 events.
    public nonisolated func topologyEvents() -> AsyncStream<TopologyEvent> {
        broadcaster.makeStream()
    }

    // MARK: Live topology probes

    /// Asks every known sentinel, concurrently, which master it names now.
    public func probeSentinels() async -> [SentinelProbe] {
        let discovery = makeDiscovery()
        let known = topology.sentinels
        let watched = Set(known.filter(\.subscribed).map(\.address))
        return await Self.concurrently(known) { info in
            var probe = SentinelProbe(address: info.address, origin: info.origin, subscribed: watched.contains(info.address))
            do {
                let answer = try await discovery.ask(info.address)
                probe.reachable = true
                probe.latencyMicroseconds = answer.latencyMicroseconds
                probe.namedMaster = answer.master
            } catch {
                probe.error = discovery.reason(for: error).description
            }
            return probe
        }
    }

    /// `SENTINEL CKQUORUM` as the first sentinel that answers says it (`OK 3 usable
    /// Sentinels. ...` or `NOQUORUM ...`), with the sentinel that said it.
    public func checkQuorum() async throws(SentinelClientError) -> (sentinel: ServerAddress, verdict: String) {
        try await fromFirstAnsweringSentinel { discovery, sentinel in
            (sentinel, try await discovery.checkQuorum(sentinel))
        }
    }

    /// Replicas as the first answering sentinel lists them, each checked with ROLE.
    public func probeReplicas() async throws(SentinelClientError) -> [ReplicaProbe] {
        let listed = try await fromFirstAnsweringSentinel { discovery, sentinel in
            (discovery, try await discovery.listReplicas(sentinel))
        }
        return await Self.concurrently(listed.1) { replica in
            var probe = replica
            probe.role = await listed.0.role(of: replica.address)
            return probe
        }
    }

    // MARK: Replicas

    /// The replicas Sentinel lists for the master that are fit to read from: none of
    /// `s_down`, `o_down` or `disconnected` in their flags. In Sentinel's order.
    public func healthyReplicas() async throws(SentinelClientError) -> [ServerAddress] {
        let listed = try await fromFirstAnsweringSentinel { discovery, sentinel in
            try await discovery.listReplicas(sentinel)
        }
        return listed.filter { replica in
            !replica.flags.split(separator: ",").contains { Self.unfitReplicaFlags.contains(String($0)) }
        }.map(\.address)
    }

    private static let unfitReplicaFlags: Set<String> = ["s_down", "o_down", "disconnected"]

    /// Whether a replica's master (as its ROLE names it) is the master in use, or the one
    /// the last failover replaced (until Sentinel reconfigures the replica). One side may
    /// spell the host as a name and the other as an address (or as another name): then
    /// they are the same host when they resolve to a common address. A name this host
    /// cannot resolve (a cluster-internal name seen from a bastion host), or not within the
    /// connect timeout, leaves the port to decide.
    /// `resolved` keeps the lookups of one search for a replica, each name looked up once.
    private func replicates(from master: ServerAddress, resolved: inout [String: Set<String>]) async -> Bool {
        guard topology.master != nil else { return true }
        if mastersInUse.contains(master) { return true }
        guard mastersInUse.contains(where: { $0.port == master.port }) else { return false }
        let named = await addresses(of: master.host, resolved: &resolved)
        // Read after the lookup: a failover may have installed another master meanwhile.
        var unresolved = named.isEmpty
        for candidate in mastersInUse where candidate.port == master.port {
            let addresses = await addresses(of: candidate.host, resolved: &resolved)
            if !named.isDisjoint(with: addresses) { return true }
            unresolved = unresolved || addresses.isEmpty
        }
        if unresolved {
            logger.debug("a master's host name did not resolve in time: the port decides", metadata: ["named": "\(master)"])
        }
        return unresolved
    }

    private var mastersInUse: [ServerAddress] { [topology.master?.address, topology.replacedMaster].compactMap { $0 } }

    private func addresses(of host: String, resolved: inout [String: Set<String>]) async -> Set<String> {
        if let known = resolved[host] { return known }
        let found = await HostAddresses.of(host, within: configuration.connectTimeout)
        resolved[host] = found
        return found
    }

    /// A new connection to `address`, with the data nodes' handshake (in `database`
    /// when given, else the configured one), once ROLE on it says replica with its link
    /// to the master up. The caller owns it and closes it (shutdown closes it too).
    public func connectToReplica(_ address: ServerAddress, database: Int? = nil) async throws(SentinelClientError)
        -> RedisConnection
    {
        var resolved: [String: Set<String>] = [:]
        return try await connectToReplica(address, database: database, resolved: &resolved)
    }

    private func connectToReplica(_ address: ServerAddress, database: Int?, resolved: inout [String: Set<String>])
        async throws(SentinelClientError) -> RedisConnection
    {
        var handshake = configuration.dataHandshake
        if let database { handshake.database = database }
        let connection = try await dial(address, handshake, configuration.connectTimeout)
        let parsed: Result<ServerRole, FailureReason>
        do {
            parsed = ServerRole.parse(try await connection.send(RESPCommand("ROLE")))
        } catch {
            connection.close(reason: "ROLE failed")
            throw .connectFailed(address: address, reason: error.reason ?? .other("\(error)"), underlying: error)
        }
        let role: ServerRole
        switch parsed {
        case .success(let answer): role = answer
        case .failure(let reason):
            connection.close(reason: "ROLE failed")
            throw .connectFailed(address: address, reason: reason)
        }
        if case .replica(let master, let link, _) = role, link == "connected", await replicates(from: master, resolved: &resolved) {
            return connection
        }
        connection.close(reason: "not a healthy replica")
        throw .connectFailed(address: address, reason: .notAHealthyReplica(role: "\(role)"))
    }

    /// A connection to the next healthy replica in turn; those in `avoided` (one that
    /// just failed) are tried only after the others. Each refusal is tried past; throws
    /// `noHealthyReplica` with every replica tried.
    public func connectToSomeReplica(avoiding avoided: Set<ServerAddress> = [], database: Int? = nil)
        async throws(SentinelClientError) -> RedisConnection
    {
        let healthy = try await healthyReplicas()
        guard !healthy.isEmpty else { throw .noHealthyReplica(masterName: configuration.masterName, tried: []) }
        replicaTurn += 1
        let turn = healthy.indices.map { healthy[(replicaTurn + $0) % healthy.count] }
        var tried: [(ServerAddress, FailureReason)] = []
        var resolved: [String: Set<String>] = [:]
        for address in turn.filter({ !avoided.contains($0) }) + turn.filter({ avoided.contains($0) }) {
            do {
                return try await connectToReplica(address, database: database, resolved: &resolved)
            } catch {
                tried.append((address, error.reason ?? .other(error.description)))
            }
        }
        throw .noHealthyReplica(masterName: configuration.masterName, tried: tried)
    }

    /// Runs `command` where `readFrom` says: on the master as `execute(_:)` does, or on
    /// a healthy replica (one connection, kept while it serves; a command that was not
    /// sent, or a read-only one whose reply was lost, goes to the next replica once), or
    /// on a replica if one is healthy and else the master. A replica refuses writes (`READONLY`) and may lag behind the master.
    public func execute(_ command: RESPCommand, readFrom: ReadFrom) async throws(SentinelClientError) -> RESPValue {
        switch readFrom {
        case .master:
            return try await execute(command)
        case .replica:
            return try await executeOnReplica(command)
        case .replicaPreferred:
            do {
                return try await executeOnReplica(command)
            } catch where error.code == .noHealthyReplica || error.code == .noSentinelReachable {
                return try await execute(command)
            }
        }
    }

    private func executeOnReplica(_ command: RESPCommand) async throws(SentinelClientError) -> RESPValue {
        var failed: Set<ServerAddress> = []
        while true {
            let connection = try await readReplicaConnection(avoiding: failed)
            do {
                return try await connection.send(command)
            } catch {
                if readReplica === connection { readReplica = nil }
                connection.close(reason: "a read failed")
                var mayResend = error.certainlyNotRun
                if !mayResend, error.code == .commandInDoubt { mayResend = await isReadOnly(command) }
                guard mayResend, failed.isEmpty else { throw error }
                failed.insert(connection.address)
            }
        }
    }

    private func readReplicaConnection(avoiding failed: Set<ServerAddress>) async throws(SentinelClientError)
        -> RedisConnection
    {
        if let current = readReplica, serves(current) { return current }
        dropReadReplica()
        let fresh = try await connectToSomeReplica(avoiding: failed)
        // Another read may have connected meanwhile: keep one.
        if let other = readReplica, serves(other), other !== fresh {
            fresh.close(reason: "another read connected first")
            return other
        }
        dropReadReplica()
        readReplica = fresh
        return fresh
    }

    /// A read replica that is still open and was not promoted to master since.
    private func serves(_ replica: RedisConnection) -> Bool {
        replica.isActive && replica.address != topology.master?.address
    }

    private func dropReadReplica() {
        readReplica?.close(reason: "no longer a replica to read from")
        readReplica = nil
    }

    /// `ask` of each known sentinel in order, until one answers; else the last failure.
    private func fromFirstAnsweringSentinel<T: Sendable>(
        _ ask: (Discovery, ServerAddress) async throws -> T
    ) async throws(SentinelClientError) -> T {
        let discovery = makeDiscovery()
        var lastError = SentinelClientError.noSentinelReachable(masterName: configuration.masterName, attempts: [])
        for sentinel in topology.sentinels.map(\.address) {
            do {
                return try await ask(discovery, sentinel)
            } catch {
                lastError = .connectFailed(address: sentinel, reason: discovery.reason(for: error), underlying: error)
            }
        }
        throw lastError
    }

    /// `transform` on every element at once; the results in the elements' order.
    private static func concurrently<T: Sendable, R: Sendable>(
        _ elements: [T], _ transform: @escaping @Sendable (T) async -> R
    ) async -> [R] {
        await withTaskGroup(of: (Int, R).self) { group in
            for (index, element) in elements.enumerated() {
                group.addTask { (index, await transform(element)) }
            }
            var results: [(Int, R)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    private func makeDiscovery() -> Discovery {
        Discovery(configuration: configuration, logger: logger) { [self] address, handshake, timeout, replyTimeout in
            try await self.dial(address, handshake, timeout, commandTimeout: .some(replyTimeout))
        }
    }

    // MARK: Shutdown

    /// Watchers unsubscribe first; a short grace lets the confirmations arrive (the
    /// watcher closes its link on the last one). A sentinel that does not answer
    /// (hung, or not a sentinel) has its link closed when the grace is over.
    private func unsubscribeWatchers() async {
        let watchers = watcherConnections
        watcherConnections = [:]
        await withTaskGroup(of: Void.self) { group in
            for connection in watchers.values {
                group.addTask {
                    connection.writeToStream(RESPCommand("UNSUBSCRIBE"))
                    await connection.closeAndWait(after: .milliseconds(200), reason: "the client is shutting down")
                }
            }
        }
    }

    /// Runs once, after every task of `run()` has ended: fails waiting commands with a
    /// clear error, closes every connection, ends the event streams.
    private func performShutdown() async {
        lifecycle = .stopping
        for waiter in reconciler.stop() { waiter.resume() }
        for waiter in holdWaiters.values { waiter.resume() }
        holdWaiters = [:]
        resolveFirstDiscovery(.failure(.shutDown))
        perform(pool.shutdown())
        await registry.closeAll(reason: "the client was shut down")
        broadcaster.finish()
        lifecycle = .stopped
        logger.debug("sentinel client shut down")
        for waiter in stoppedWaiters { waiter.resume() }
        stoppedWaiters = []
    }

    // MARK: Internals: connections

    private nonisolated func dial(
        _ address: ServerAddress, _ handshake: HandshakeSettings, _ timeout: TimeAmount,
        commandTimeout: TimeAmount?? = nil
    ) async throws(SentinelClientError) -> RedisConnection {
        let connection = try await RedisConnection.connect(
            to: address, on: group, handshake: handshake, connectTimeout: timeout,
            commandTimeout: commandTimeout ?? configuration.commandTimeout)
        guard registry.add(connection) else {
            await connection.closeAndWait(reason: "the client is shut down")
            throw .shutDown
        }
        return connection
    }

    private func perform(_ actions: [PoolStateMachine<RedisConnection>.Action]) {
        for action in actions {
            switch action {
            case .close(let connection):
                connection.close(reason: "retired by the pool")
            case .wake(let waiter):
                waiters.removeValue(forKey: waiter)?.resume()
            }
        }
    }

    /// What a suspended lease waits for: a pool slot, or the end of a hold.
    private enum Wait { case slot, hold }

    /// Suspends until the waiter is woken (`perform(.wake)`, `resumeHoldWaitersIfReleased`),
    /// the deadline passes or the task is cancelled, whichever comes first.
    private func suspend(_ waiter: UInt64, for wait: Wait, until deadline: NIODeadline) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(max(0, (deadline - .now()).nanoseconds)))
                await self.stopWaiting(waiter, for: wait)
            }
            await withCheckedContinuation { continuation in
                switch wait {
                case .slot: waiters[waiter] = continuation
                case .hold: holdWaiters[waiter] = continuation
                }
                if Task.isCancelled { stopWaiting(waiter, for: wait) }
            }
            group.cancelAll()
        }
    }

    private func stopWaiting(_ waiter: UInt64, for wait: Wait) {
        switch wait {
        case .slot:
            pool.cancelWait(waiter)
            waiters.removeValue(forKey: waiter)?.resume()
        case .hold:
            holdWaiters.removeValue(forKey: waiter)?.resume()
        }
    }

    /// Whether re-running `command` is harmless: COMMAND INFO on the master flags it
    /// `readonly` and not `write`. Cached per name; false when the master cannot say.
    public func isReadOnly(_ command: RESPCommand) async -> Bool {
        let name = command.name.lowercased()
        if let known = readOnlyCommands[name] { return known }
        guard let lease = try? await lease() else { return false }
        let reply = try? await lease.connection.send(RESPCommand("COMMAND", "INFO", name))
        release(lease, healthy: reply != nil)
        guard let info = reply?.elements?.first?.elements, info.count > 2, let flags = info[2].elements else {
            return false
        }
        let names = Set(flags.compactMap(\.string))
        let readOnly = names.contains("readonly") && !names.contains("write")
        readOnlyCommands[name] = readOnly
        return readOnly
    }

    // MARK: Internals: discovery and reconciliation

    /// Asks Sentinel again and verifies with ROLE; returns once a run that started
    /// after this call has ended. Concurrent calls share runs.
    public func reconcile(reason: String) async {
        guard lifecycle == .running else { return }
        await withCheckedContinuation { continuation in
            submitReconcile(reason: reason, waiter: continuation)
        }
    }

    /// A reconcile run without waiting for it: a watcher must read on, since the events
    /// behind this one (a failover's `+selected-slave`, `+promoted-slave`) must not wait
    /// for a run that may take a try timeout on a hung master.
    private func requestReconcile(reason: String) {
        guard lifecycle == .running else { return }
        submitReconcile(reason: reason, waiter: nil)
    }

    private func submitReconcile(reason: String, waiter: CheckedContinuation<Void, Never>?) {
        logger.debug("reconcile requested", metadata: ["reason": "\(reason)"])
        if reconciler.request(waiter) == .startRun { reconcileWake.yield() }
    }

    /// Performs the runs the reconcile state machine asks for, until cancelled.
    private func reconcileLoop() async {
        for await _ in reconcileWakes {
            var settled = false
            while !settled {
                await reconcileOnce()
                let done: [CheckedContinuation<Void, Never>]
                switch reconciler.runFinished() {
                case .runAgain(let waiting): done = waiting
                case .settled(let waiting): (done, settled) = (waiting, true)
                }
                for waiter in done { waiter.resume() }
            }
        }
    }

    private func reconcileOnce() async {
        guard lifecycle == .running else { return }
        do {
            let result = try await makeDiscovery().run(order: topology.sentinels.map(\.address)) { attempt, answer in
                await self.observe(attempt, answer)
            }
            guard lifecycle == .running else {
                result.connection.close(reason: "the client is shutting down")
                return
            }
            guard await earlyMasterStays(named: result.master) else { return await apply(result) }
            result.connection.close(reason: "the sentinels still name the old master after an early switch")
        } catch {
            // Cut short by the shutdown: performShutdown tells the waiters it was that.
            guard lifecycle == .running, !Task.isCancelled else { return }
            if await earlyMasterStays(named: nil) { return }
            resolveFirstDiscovery(.failure(error))
            if topology.keepsMaster(after: error) {
                logger.notice("master kept", metadata: ["error": "\(error)"])
            } else {
                markMasterUnreachable(error)
            }
        }
    }

    private func resolveFirstDiscovery(_ outcome: Result<MasterInfo, SentinelClientError>) {
        guard firstDiscovery == nil else { return }
        firstDiscovery = outcome
        for waiter in firstDiscoveryWaiters { waiter.resume(returning: outcome) }
        firstDiscoveryWaiters = []
    }

    private func observe(_ attempt: DiscoveryAttempt?, _ answer: SentinelAnswer?) {
        publishAndWatch(topology.observe(attempt, answer))
    }

    /// Publishes `events`; a sentinel learned of gets a watcher.
    private func publishAndWatch(_ events: [TopologyEvent]) {
        publish(events)
        for case .sentinelLearned(let sentinel) in events { startWatcher(sentinel) }
    }

    private func apply(_ result: DiscoveryResult) async {
        let before = topology.master?.address
        let moving = before.map { $0 != result.master } ?? false
        let promotedAt = moving ? await promotionOffset(on: result.connection) : nil
        guard lifecycle == .running else {
            result.connection.close(reason: "the client is shutting down")
            return
        }
        // An early switch to another master while INFO was read: this result is older than it.
        if let now = topology.master?.address, now != before, now != result.master {
            result.connection.close(reason: "the master changed while the result was applied")
            return requestReconcile(reason: "the master changed to \(now) during a reconcile")
        }
        install(
            result.master, role: result.role, connection: result.connection, answeredBy: result.answeredBy.sentinel,
            attempts: result.attempts, promotedAt: promotedAt)
    }

    /// A master verified by ROLE becomes the pool's: a new one closes every connection
    /// to the old one (what waits there fails in doubt now), and the replication
    /// offsets say whether writes the old one acknowledged missed the new one.
    /// Synchronous on purpose: between the topology, the pool and the hold no other
    /// task may run (a command slipping through to the old master). `promotedAt` is
    /// the new master's `promotionOffset`, read before.
    private func install(
        _ master: ServerAddress, role: MasterRole, connection: RedisConnection, answeredBy sentinel: ServerAddress,
        attempts: [DiscoveryAttempt], promotedAt: Int64?
    ) {
        let previous = topology.master
        let moved = previous != nil && previous?.address != master
        let events = topology.verified(master, answeredBy: sentinel, role: role, attempts: attempts, at: .now())
        perform(pool.masterVerified(master))
        perform(pool.adopt(connection, generation: pool.generation))
        if moved, let previous {
            registry.close(to: previous.address, reason: "the master moved to \(master)")
        }
        resumeHoldWaitersIfReleased()
        if let known = topology.master { resolveFirstDiscovery(.success(known)) }
        // The new master may be being failed over already (its `+selected-slave` came first).
        publishWakingPromotion(events)
        if moved, let previous, let promotedAt, previous.replicationOffset > promotedAt {
            publish([.replicationGap(from: previous.address, to: master, bytes: previous.replicationOffset - promotedAt)])
        }
    }

    /// The offset at which a promoted master stopped following its old master:
    /// `second_repl_offset` - 1 (`INFO replication`); nil when it was never promoted.
    private func promotionOffset(on connection: RedisConnection) async -> Int64? {
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

    private func markMasterUnreachable(_ error: SentinelClientError) {
        guard lifecycle == .running else { return }
        perform(pool.masterLost(error.description))
        publish(topology.unreachable(error.description))
    }

    /// Publishes, and starts following a promotion when the events hold commands for one.
    private func publishWakingPromotion(_ events: [TopologyEvent]) {
        publish(events)
        if events.contains(where: { if case .commandsHeld = $0 { true } else { false } }) { promotionWake.yield() }
    }

    /// Logs each event, then hands it to every stream of `topologyEvents()`.
    private func publish(_ events: [TopologyEvent]) {
        guard lifecycle == .running else { return }
        for event in events {
            switch event {
            case .masterSwitched(let from, let to):
                logger.info("master verified", metadata: ["master": "\(to)", "previous": "\(from.map { "\($0)" } ?? "none")"])
            case .masterReachable(let address):
                logger.info("master reachable again", metadata: ["master": "\(address)"])
            case .masterUnreachable(_, let reason):
                logger.warning("master unreachable", metadata: ["error": "\(reason)"])
            case .failoverStarted(let master, let sentinel):
                logger.info("failover reported", metadata: ["master": "\(master.map { "\($0)" } ?? "?")", "sentinel": "\(sentinel)"])
            case .sentinelDown(let sentinel):
                logger.info("sentinel down", metadata: ["sentinel": "\(sentinel)"])
            case .sentinelUp(let sentinel):
                logger.info("sentinel up", metadata: ["sentinel": "\(sentinel)"])
            case .sentinelLearned(let sentinel):
                logger.info("learned of a sentinel", metadata: ["sentinel": "\(sentinel)"])
            case .sentinelEvent(let event):
                logger.info("sentinel event", metadata: ["event": "\(event)", "sentinel": "\(event.reportedBy)"])
            case .commandsHeld(let candidate, let master):
                logger.info("commands held for a promotion", metadata: ["candidate": "\(candidate)", "master": "\(master)"])
            case .holdReleased(let master, let reason):
                logger.notice("hold released", metadata: ["master": "\(master)", "reason": "\(reason)"])
            case .replicationGap(let from, let to, let bytes):
                logger.warning("acknowledged writes may be lost", metadata: ["from": "\(from)", "to": "\(to)", "bytes": "\(bytes)"])
            case .agreementChanged(let agreement):
                logger.notice("sentinel agreement changed", metadata: ["agreement": "\(agreement)"])
            case .earlySwitchOverruled(let early, let named):
                logger.warning("early switch overruled", metadata: ["early": "\(early)", "named": "\(named.map { "\($0)" } ?? "none")"])
            }
            broadcaster.yield(event)
        }
    }

    /// Reconciles every `reconcileInterval` (more often while no master is reachable),
    /// and asks every known sentinel at that pace how it stands on the master.
    /// After a switch the agreement is probed again within a tick: the old verdict's marks
    /// would mislead until then.
    private func reconcilePeriodically() async {
        // The first probe after one interval, not at start-up: a short session never pays for it.
        var lastProbe = NIODeadline.now()
        var lastReconcile = NIODeadline.now()
        let tick = TimeAmount.milliseconds(250)
        while !Task.isCancelled {
            let now = NIODeadline.now()
            if topology.agreementStale || now - lastProbe >= configuration.reconcileInterval {
                lastProbe = now
                await checkAgreement()
            }
            let interval = topology.masterReachable ? configuration.reconcileInterval : configuration.unreachableRetryInterval
            if NIODeadline.now() - lastReconcile >= interval {
                lastReconcile = .now()
                await reconcile(reason: "periodic check")
            }
            do { try await Task.sleep(nanoseconds: UInt64(min(tick, interval).nanoseconds)) } catch { return }
        }
    }

    /// While a promotion is followed the sentinels lag on purpose: no verdict then.
    private func checkAgreement() async {
        guard topology.promotion == nil else { return }
        let probes = await probeSentinels()
        guard lifecycle == .running, !Task.isCancelled, topology.promotion == nil else { return }
        publish(topology.probed(probes))
    }

    // MARK: Internals: following a promotion

    /// Follows each promotion Sentinel starts for our master, one at a time, until cancelled.
    private func promotionLoop() async {
        for await _ in promotionWakes {
            guard let promotion = topology.promotion, promotion.holdsCommands else { continue }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.sampleOffsets(of: promotion) }
                await followPromotion(promotion)
                group.cancelAll()
            }
        }
    }

    /// Asks ROLE of the candidate until it says master, then switches to it; commands
    /// are held meanwhile. Gives up after `promotionWaitTimeout` (commands go to the old
    /// master again), or when Sentinel aborts (`releaseHold`). ROLE goes over one kept
    /// connection, every `promotionPollInterval`; Sentinel's promotion closes it (`CLIENT
    /// KILL TYPE normal`), and a new one is dialled at once.
    private func followPromotion(_ promotion: Promotion) async {
        let deadline = promotion.since + configuration.promotionWaitTimeout
        logger.info("commands held: following a promotion", metadata: ["candidate": "\(promotion.candidate)", "master": "\(promotion.old)"])
        var probe: RedisConnection?
        var redialled = false
        defer { probe?.close(reason: "promotion followed") }
        while lifecycle == .running, !Task.isCancelled, topology.promotion == promotion, NIODeadline.now() < deadline {
            if probe?.isActive != true {
                // The data nodes' reply timeout: the probe that sees master joins the pool.
                probe = try? await dial(promotion.candidate, configuration.dataHandshake, configuration.sentinelTryTimeout)
            }
            if let connection = probe, let role = await masterRole(on: connection) {
                probe = nil
                return await switchEarly(promotion, role: role, connection: connection)
            }
            // A probe closed by the promotion (CLIENT KILL) is dialled again at once, once;
            // a candidate that refuses connections is tried less often.
            let closed = probe.map { !$0.isActive } ?? false
            let pause = probe == nil ? max(configuration.promotionPollInterval, .milliseconds(50)) : configuration.promotionPollInterval
            if closed && !redialled {
                redialled = true
            } else {
                try? await Task.sleep(nanoseconds: UInt64(pause.nanoseconds))
            }
        }
        if topology.promotion == promotion {
            releaseHold(reason: "\(promotion.candidate) did not report master within \(configuration.promotionWaitTimeout)")
        }
    }

    /// ROLE within `sentinelTryTimeout` (past it the connection is closed); nil unless master.
    private func masterRole(on connection: RedisConnection) async -> MasterRole? {
        let reply = try? await withDeadline(configuration.sentinelTryTimeout) { try await connection.send(RESPCommand("ROLE")) }
        guard let reply, case .success(.master(let role)) = ServerRole.parse(reply) else { return nil }
        return role
    }

    /// ROLE on the candidate said master (on `connection`): it becomes the master in use,
    /// ahead of Sentinel.
    private func switchEarly(_ promotion: Promotion, role: MasterRole, connection: RedisConnection) async {
        let promotedAt = await promotionOffset(on: connection)
        guard topology.promotion == promotion, lifecycle == .running else {
            connection.close(reason: "the promotion is no longer followed")
            return
        }
        topology.promotedEarly(at: .now())
        logger.notice("promoted replica verified by ROLE: switching ahead of +switch-master", metadata: ["master": "\(promotion.candidate)"])
        install(
            promotion.candidate, role: role, connection: connection, answeredBy: promotion.reportedBy, attempts: [],
            promotedAt: promotedAt)
    }

    /// While commands are held, the old master's replication offset (ROLE), so that the
    /// switch can tell whether writes it acknowledged missed the new master. A master that
    /// does not answer is simply not sampled.
    private func sampleOffsets(of promotion: Promotion) async {
        guard
            let connection = try? await dial(
                promotion.old, configuration.dataHandshake, configuration.sentinelTryTimeout,
                commandTimeout: .some(configuration.sentinelTryTimeout))
        else { return }
        defer { connection.close(reason: "offset sampling done") }
        while !Task.isCancelled, topology.promotion == promotion {
            guard let reply = try? await connection.send(RESPCommand("ROLE")),
                case .success(.master(let role)) = ServerRole.parse(reply)
            else { return }
            topology.sampled(offset: role.replicationOffset, of: promotion.old)
            try? await Task.sleep(nanoseconds: UInt64(configuration.promotionPollInterval.nanoseconds))
        }
    }

    /// Ends a hold without a promotion: the old master serves again.
    private func releaseHold(reason: String) {
        guard let promotion = topology.promotion, promotion.holdsCommands else { return }
        topology.promotionAbandoned()
        logger.notice("commands released to the old master", metadata: ["master": "\(promotion.old)", "reason": "\(reason)"])
        publish([.holdReleased(master: promotion.old, reason: reason)])
        resumeHoldWaitersIfReleased()
    }

    /// After an early switch, whether a reconcile that found `named` (nil: none) keeps
    /// the early master: the sentinels still name the old one and ROLE on the early one
    /// still says master. Otherwise the reconcile goes on as usual.
    private func earlyMasterStays(named: ServerAddress?) async -> Bool {
        guard let promotion = topology.promotion, case .switchedEarly = promotion.phase else { return false }
        var stillMaster = false
        if named != promotion.candidate, case .success(let (_, connection)) = await makeDiscovery().verify(promotion.candidate) {
            connection.close(reason: "early master checked")
            stillMaster = true
        }
        switch topology.decide(named: named, earlyMasterStillMaster: stillMaster, at: .now(), grace: configuration.earlySwitchGrace) {
        case .apply: return false
        case .keepEarlyMaster: return true
        case .overruled(let early, _):
            logger.warning("the sentinels overrule the early switch", metadata: ["early": "\(early)", "named": "\(named.map { "\($0)" } ?? "none")"])
            publish([.earlySwitchOverruled(early: early, named: named)])
            return false
        }
    }

    /// Waits while commands are held for a promotion, up to `deadline`.
    private func waitWhileHolding(until deadline: NIODeadline) async {
        guard topology.promotion?.holdsCommands == true, lifecycle == .running else { return }
        nextWaiterID += 1
        await suspend(nextWaiterID, for: .hold, until: deadline)
    }

    private func resumeHoldWaitersIfReleased() {
        guard topology.promotion?.holdsCommands != true else { return }
        for waiter in holdWaiters.values { waiter.resume() }
        holdWaiters = [:]
    }

    // MARK: Internals: sentinel watchers

    /// Keeps one subscription on `sentinel`, re-subscribing with backoff when the link drops.
    private func watch(_ sentinel: ServerAddress) async {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        var everConnected = false
        while !Task.isCancelled, lifecycle == .running {
            do {
                let connection = try await dial(
                    sentinel, configuration.sentinelHandshake, configuration.sentinelTryTimeout,
                    commandTimeout: .some(configuration.sentinelTryTimeout))
                guard lifecycle == .running, !Task.isCancelled else {
                    connection.close(reason: "the client is shutting down")
                    return
                }
                watcherConnections[sentinel] = connection
                let messages = connection.stream(RESPCommand(strings: ["SUBSCRIBE"] + SentinelMessage.channels))
                var confirmed = 0
                for try await message in messages {
                    guard let kind = message.elements?.first?.string else { continue }
                    if kind == "subscribe" {
                        confirmed += 1
                        guard confirmed == SentinelMessage.channels.count else { continue }
                        setSubscribed(sentinel, true)
                        backoff.reset()
                        if everConnected {
                            // Messages sent while the link was down are lost: look again.
                            requestReconcile(reason: "sentinel \(sentinel) link re-established")
                        }
                        everConnected = true
                    } else if kind == "message" {
                        await handle(message, from: sentinel)
                    } else if kind == "unsubscribe", message.elements?.last?.integer == 0 {
                        connection.close(reason: "unsubscribed")
                    }
                }
            } catch {
                logger.debug("sentinel watcher link failed", metadata: ["sentinel": "\(sentinel)", "error": "\(error)"])
            }
            watcherConnections[sentinel]?.close(reason: "watcher link lost")
            watcherConnections[sentinel] = nil
            setSubscribed(sentinel, false)
            guard !Task.isCancelled, lifecycle == .running else { return }
            try? await Task.sleep(nanoseconds: UInt64(backoff.next().nanoseconds))
        }
    }

    private func setSubscribed(_ sentinel: ServerAddress, _ subscribed: Bool) {
        publish(topology.linkChanged(sentinel, subscribed: subscribed))
    }

    private func handle(_ message: RESPValue, from sentinel: ServerAddress) async {
        guard let items = message.elements, items.count >= 3, let channel = items[1].string,
            let payload = items[2].string
        else { return }
        logger.debug("sentinel event", metadata: ["sentinel": "\(sentinel)", "channel": "\(channel)", "payload": "\(payload)"])
        if SentinelMessage.isAbout(configuration.masterName, payload: payload),
            shownEvents.isNew(channel: channel, payload: payload, at: .now())
        {
            publish([.sentinelEvent(SentinelEvent(channel: channel, payload: payload, reportedBy: sentinel))])
        }
        switch SentinelMessage.parse(channel: channel, payload: payload, masterName: configuration.masterName) {
        case .masterSwitched:
            requestReconcile(reason: "+switch-master from \(sentinel)")
        case .failoverStarted(let master):
            // Once per failover of the master we use: several sentinels report it, some
            // only after the switch (then it is about a master we already left).
            if master == topology.master?.address,
                shownEvents.isNew(channel: "failover-started", payload: "\(master)", at: .now())
            {
                publish([.failoverStarted(master: master, reportedBy: sentinel)])
            }
            requestReconcile(reason: "\(channel) from \(sentinel)")
        case .masterStateChanged(let channel):
            requestReconcile(reason: "\(channel) from \(sentinel)")
        case .sentinelDown(let address):
            publish(topology.sentinelReported(address, down: true))
        case .sentinelUp(let address):
            publish(topology.sentinelReported(address, down: false))
        case .sentinelAdded(let address):
            publishAndWatch(topology.learn(address))
        case .replicaSelected(let candidate, let master):
            guard configuration.followPromotions,
                topology.replicaSelected(candidate, replacing: master, reportedBy: sentinel, at: .now())
            else { return }
            publishWakingPromotion([.commandsHeld(candidate: candidate, replacing: master)])
        case .failoverAborted:
            // Only the leader's abort ends the hold: another sentinel's
            // -failover-abort-not-elected is about its own, lost attempt.
            if topology.promotion?.reportedBy == sentinel { releaseHold(reason: "\(channel) from \(sentinel)") }
            requestReconcile(reason: "\(channel) from \(sentinel)")
        case nil:
            return
        }
    }
}

/// Exponential backoff between reconnection tries.
struct Backoff: Sendable {
    let initial: TimeAmount
    let maximum: TimeAmount
    private var current: TimeAmount

    init(initial: TimeAmount, maximum: TimeAmount) {
        self.initial = initial
        self.maximum = maximum
        self.current = initial
    }

    /// The delay before the next try; each call doubles it, up to `maximum`.
    mutating func next() -> TimeAmount {
        defer { current = min(current * 2, maximum) }
        return current
    }

    mutating func reset() { current = initial }
}
