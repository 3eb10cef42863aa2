import NIOCore

/// A connection as the client's state machine sees it: an identity, an address and
/// whether it is still open. `RedisConnection` in the client; a plain object in tests.
protocol ManagedConnection: AnyObject, Sendable {
    var address: ServerAddress { get }
    var isActive: Bool { get }
}

extension RedisConnection: ManagedConnection {}

/// Every decision `SentinelClient` makes, as one plain state machine: an input (a
/// call, a discovery result, a Sentinel message, a timer) is a synchronous mutating
/// function that returns the actions to perform. The actor performs them and does
/// nothing else with this state; an async result comes back as an input that says what
/// it was based on, so that the machine can find it stale.
///
/// It owns the lifecycle, the pool (`PoolStateMachine`), the topology (`TopologyState`),
/// the reconcile schedule (`ReconcileStateMachine`), every parked caller, the watched
/// sentinels, the read replica and the caches of the client.
struct SentinelClientStateMachine<Connection: ManagedConnection, Waiter> {
    typealias WaiterID = ParkedWaiters<Waiter>.ID

    enum Lifecycle: Sendable, Equatable { case idle, running, stopping, stopped }

    enum Action {
        case close(Connection, reason: String)
        /// Every open connection to a master that is no longer the master.
        case closeConnections(to: ServerAddress, reason: String)
        case resume(Waiter)
        case publish(TopologyEvent)
        /// A reconcile was asked for; `startRun` when the loop must be woken for it.
        case reconcileRequested(reason: String, startRun: Bool)
        /// Commands are held for a promotion: the promotion loop follows it.
        case followPromotion
        /// A sentinel to keep a subscription on.
        case watch(ServerAddress)
    }

    let masterName: String
    let followFailovers: Bool
    let followPromotions: Bool
    private(set) var lifecycle = Lifecycle.idle
    // The parts below are internal for the transitions in `+Topology`; only this
    // machine's transitions change them (the client reads them).
    var pool: PoolStateMachine<Connection>
    var topology: TopologyState
    private var reconciler = ReconcileStateMachine<Waiter>()
    var waiters = ParkedWaiters<Waiter>()
    var watchers: SentinelWatchers<Connection>
    private var readOnlyCommands: [String: Bool] = [:]
    var shownEvents = EventDeduplicator()
    /// The outcome of the first discovery (set once), and who waits for it.
    private(set) var firstDiscovery: Result<MasterInfo, SentinelClientError>?
    private var firstDiscoveryWaiters: [Waiter] = []
    private var stoppedWaiters: [Waiter] = []
    /// The replica `execute(_:readFrom:)` reads from, while it serves.
    private(set) var readReplica: Connection?
    /// Round-robin over the healthy replicas; a random start spreads clients that start together.
    private var replicaTurn: Int

    init(configuration: SentinelClientConfiguration, replicaTurn: Int = Int.random(in: 0..<1024)) {
        masterName = configuration.masterName
        followFailovers = configuration.followFailovers
        followPromotions = configuration.followPromotions
        pool = PoolStateMachine(maxSize: configuration.poolSize)
        topology = TopologyState(
            masterName: configuration.masterName, sentinels: configuration.sentinels,
            selectionLifetime: configuration.promotionWaitTimeout, addressMap: configuration.addressMap)
        watchers = SentinelWatchers(limit: configuration.followFailovers ? configuration.watchedSentinels : 0)
        self.replicaTurn = replicaTurn
    }

    var isRunning: Bool { lifecycle == .running }

    // MARK: Lifecycle

    enum RunAction: Equatable {
        case run
        /// After an early shutdown `run()` just returns.
        case returnAtOnce
        /// A second `run()` is a mistake.
        case alreadyRunning
    }

    mutating func runCalled() -> RunAction {
        switch lifecycle {
        case .idle:
            lifecycle = .running
            return .run
        case .running: return .alreadyRunning
        case .stopping, .stopped: return .returnAtOnce
        }
    }

    enum ShutdownAction: Equatable {
        /// `run()` never ran: the caller performs the ordered shutdown itself.
        case shutDownHere
        /// `run()` performs it: wait until it is done (`awaitStopped`).
        case waitUntilStopped
        case alreadyStopped
    }

    mutating func shutdownCalled() -> ShutdownAction {
        switch lifecycle {
        case .idle:
            lifecycle = .stopping
            return .shutDownHere
        case .running, .stopping: return .waitUntilStopped
        case .stopped: return .alreadyStopped
        }
    }

    mutating func awaitStopped(_ waiter: Waiter) -> [Action] {
        guard lifecycle != .stopped else { return [.resume(waiter)] }
        stoppedWaiters.append(waiter)
        return []
    }

    /// A stop was asked for: nothing new starts, and the watchers' links are handed
    /// back to be unsubscribed while the event loops still run.
    mutating func stopRequested() -> [Connection] {
        if lifecycle == .running || lifecycle == .idle { lifecycle = .stopping }
        return watchers.takeConnections()
    }

    /// Every task of `run()` has ended: waiting callers are resumed (they find the
    /// client shut down) and the pool closes what it holds. Registered connections
    /// are closed by the owner next, then `stopped()`.
    mutating func shutDown() -> [Action] {
        lifecycle = .stopping
        var actions: [Action] = reconciler.stop().map { .resume($0) }
        actions += waiters.removeAll(.hold).map { .resume($0) }
        actions += resolveFirstDiscovery(.failure(.shutDown))
        actions += poolActions(pool.shutdown())
        return actions
    }

    mutating func stopped() -> [Action] {
        lifecycle = .stopped
        defer { stoppedWaiters = [] }
        return stoppedWaiters.map { .resume($0) }
    }

    // MARK: First discovery

    /// Resumes `waiter` once the first discovery has an outcome (`firstDiscoveryOutcome`).
    mutating func awaitFirstDiscovery(_ waiter: Waiter) -> [Action] {
        guard firstDiscovery == nil, lifecycle == .idle || lifecycle == .running else { return [.resume(waiter)] }
        firstDiscoveryWaiters.append(waiter)
        return []
    }

    /// What a resumed `awaitFirstDiscovery` caller learns.
    var firstDiscoveryOutcome: Result<MasterInfo, SentinelClientError> { firstDiscovery ?? .failure(.shutDown) }

    /// Set once; later outcomes change nothing.
    mutating func resolveFirstDiscovery(_ outcome: Result<MasterInfo, SentinelClientError>) -> [Action] {
        guard firstDiscovery == nil else { return [] }
        firstDiscovery = outcome
        defer { firstDiscoveryWaiters = [] }
        return firstDiscoveryWaiters.map { .resume($0) }
    }

    // MARK: Parked callers

    mutating func makeWaiterID() -> WaiterID { waiters.makeID() }

    /// Parks a caller; resumed at once when there is nothing to wait for any more (the
    /// hold ended, or the pool's wake came first).
    mutating func park(_ id: WaiterID, for reason: ParkedWaiters<Waiter>.Reason, _ waiter: Waiter) -> [Action] {
        if reason == .hold, !holdsCommands { return [.resume(waiter)] }
        return waiters.park(id, reason, waiter).map { [.resume($0)] } ?? []
    }

    /// A parked caller's deadline passed, or its task was cancelled.
    mutating func stopWaiting(_ id: WaiterID, for reason: ParkedWaiters<Waiter>.Reason) -> [Action] {
        if reason == .slot { pool.cancelWait(id) }
        return waiters.remove(id).map { [.resume($0)] } ?? []
    }

    // MARK: The pool

    /// The master the pool hands out connections to: the verified one while it is
    /// reachable, none after the shutdown.
    var servedMaster: ServerAddress? {
        guard !pool.isShutDown, topology.masterReachable else { return nil }
        return topology.master?.address
    }

    var poolSnapshot: PoolSnapshot { pool.snapshot(master: servedMaster) }

    /// Commands wait: a promotion of the master is followed.
    var holdsCommands: Bool { lifecycle == .running && topology.promotion?.holdsCommands == true }

    enum LeaseAction {
        case fail(SentinelClientError)
        case use(Connection, generation: Int)
        case dial(ServerAddress, generation: Int)
        /// At capacity: park under this id for a slot, then ask again.
        case waitForSlot(WaiterID)
        case noMaster
    }

    mutating func lease() -> LeaseAction {
        switch lifecycle {
        case .idle: return .fail(.notRunning)
        case .stopping, .stopped: return .fail(.shutDown)
        case .running: break
        }
        let id = waiters.makeID()
        switch pool.lease(waiter: id, master: servedMaster) {
        case .use(let connection, let generation): return .use(connection, generation: generation)
        case .dial(let address, let generation): return .dial(address, generation: generation)
        case .wait: return .waitForSlot(id)
        case .noMaster: return .noMaster
        }
    }

    enum DialOutcome: Equatable {
        case use
        /// A hold began while dialling: the connection waits in the pool.
        case parkedForHold
        /// The master moved meanwhile: the connection was closed.
        case discarded
    }

    mutating func dialSucceeded(_ connection: Connection, generation: Int) -> (DialOutcome, [Action]) {
        let actions = poolActions(pool.dialSucceeded(connection, generation: generation))
        guard actions.isEmpty else { return (.discarded, actions) }
        guard holdsCommands else { return (.use, []) }
        return (.parkedForHold, release(connection, healthy: true))
    }

    mutating func dialFailed(_ error: String) -> [Action] {
        poolActions(pool.dialFailed(error))
    }

    /// A leased connection comes back; an unhealthy one is closed, never reused.
    mutating func release(_ connection: Connection, healthy: Bool, error: String? = nil) -> [Action] {
        poolActions(pool.release(connection, healthy: healthy && connection.isActive, error: error))
    }

    /// Whether a lease can still serve: open, to the current master, and no promotion followed.
    func isUsable(generation: Int, _ connection: Connection) -> Bool {
        generation == pool.generation && connection.isActive && topology.promotion?.holdsCommands != true
    }

    mutating func poolActions(_ actions: [PoolStateMachine<Connection>.Action]) -> [Action] {
        actions.compactMap { action in
            switch action {
            case .close(let connection): return .close(connection, reason: "retired by the pool")
            case .wake(let id): return waiters.wake(id).map { .resume($0) }
            }
        }
    }

    // MARK: Caches and turns

    func readOnly(_ name: String) -> Bool? { readOnlyCommands[name] }

    mutating func learned(readOnly: Bool, of name: String) { readOnlyCommands[name] = readOnly }

    /// The start of the next turn over the healthy replicas.
    mutating func nextReplicaTurn() -> Int {
        replicaTurn += 1
        return replicaTurn
    }

    /// The read replica if it still serves: open, and not promoted to master since.
    /// One that does not is dropped (closed).
    mutating func servingReadReplica() -> (Connection?, [Action]) {
        guard let current = readReplica else { return (nil, []) }
        if current.isActive, current.address != topology.master?.address { return (current, []) }
        readReplica = nil
        return (nil, [.close(current, reason: "no longer a replica to read from")])
    }

    /// A new read replica connected. Another read may have connected one meanwhile: one is kept.
    mutating func readReplicaConnected(_ fresh: Connection) -> (Connection, [Action]) {
        let (serving, actions) = servingReadReplica()
        if let serving, serving !== fresh {
            return (serving, actions + [.close(fresh, reason: "another read connected first")])
        }
        readReplica = fresh
        return (fresh, actions)
    }

    /// A read on `connection` failed: it is closed, and no longer the read replica.
    mutating func readFailed(on connection: Connection) -> [Action] {
        if readReplica === connection { readReplica = nil }
        return [.close(connection, reason: "a read failed")]
    }

    // MARK: Reconciling

    /// Someone wants the topology checked; `waiter` is resumed when a run that started
    /// after this request has ended (at once when the client is not running).
    mutating func requestReconcile(reason: String, waiter: Waiter?) -> [Action] {
        guard lifecycle == .running else { return waiter.map { [.resume($0)] } ?? [] }
        let start = reconciler.request(waiter) == .startRun
        return [.reconcileRequested(reason: reason, startRun: start)]
    }

    /// A run ended: whether another is due, and who is done waiting.
    mutating func reconcileRunFinished() -> (runAgain: Bool, [Action]) {
        switch reconciler.runFinished() {
        case .runAgain(let done): return (true, done.map { .resume($0) })
        case .settled(let done): return (false, done.map { .resume($0) })
        }
    }

    /// Publishes `events` while running; a commands hold wakes the promotion loop, and
    /// a sentinel learned of gets a watcher.
    mutating func publishing(_ events: [TopologyEvent]) -> [Action] {
        guard lifecycle == .running else { return [] }
        var actions = events.map { Action.publish($0) }
        for event in events {
            switch event {
            case .commandsHeld: actions.append(.followPromotion)
            case .sentinelLearned(let sentinel): actions += watch(sentinel)
            default: break
            }
        }
        return actions
    }
}
