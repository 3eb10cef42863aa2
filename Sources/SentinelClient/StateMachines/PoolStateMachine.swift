/// The master connection pool as a plain state machine: it decides, the
/// owner (the client's state machine) does the I/O the returned actions ask for.
///
/// Every connection belongs to a generation; a new master starts a new generation,
/// and connections of an older one are closed, idle ones at once and leased ones
/// when they come back. The pool does not keep the master's address: the owner
/// (`TopologyState` holds it) names it at each lease.
struct PoolStateMachine<Connection: AnyObject>: Sendable where Connection: Sendable {
    typealias WaiterID = UInt64

    enum LeaseAction: Sendable {
        case use(Connection, generation: Int)
        case dial(ServerAddress, generation: Int)
        /// At capacity: wait until `wake` names this waiter, then ask again.
        case wait
        /// No verified master right now.
        case noMaster
    }

    enum Action: Sendable {
        case close(Connection)
        case wake(WaiterID)
    }


    let maxSize: Int
    private(set) var generation = 0
    private var idle: [Connection] = []
    private var leased: [ObjectIdentifier: Int] = [:]
    private var dialling = 0
    private var waiters: [WaiterID] = []
    private var dialledTotal = 0
    private var closedTotal = 0
    private var lastError: String?
    private(set) var isShutDown = false

    init(maxSize: Int) {
        precondition(maxSize > 0, "a pool needs room for one connection")
        self.maxSize = maxSize
    }

    private var total: Int { idle.count + leased.count + dialling }

    /// The pool as it is now, serving `master`.
    func snapshot(master: ServerAddress?) -> PoolSnapshot {
        PoolSnapshot(
            master: master, generation: generation, idle: idle.count, leased: leased.count, dialling: dialling,
            maxSize: maxSize, dialledTotal: dialledTotal, closedTotal: closedTotal, waiting: waiters.count,
            lastError: lastError)
    }

    /// A caller wants a connection to `master` (nil: none is verified now); `waiter`
    /// identifies it if it has to wait.
    mutating func lease(waiter: WaiterID, master: ServerAddress?) -> LeaseAction {
        guard !isShutDown, let master else { return .noMaster }
        if let connection = idle.popLast() {
            leased[ObjectIdentifier(connection)] = generation
            return .use(connection, generation: generation)
        }
        if total < maxSize {
            dialling += 1
            return .dial(master, generation: generation)
        }
        waiters.append(waiter)
        return .wait
    }

    /// A waiter gave up (cancelled or timed out).
    mutating func cancelWait(_ waiter: WaiterID) {
        waiters.removeAll { $0 == waiter }
    }

    /// A dial asked for by `lease` succeeded; the connection is leased to the dialler
    /// unless the master moved meanwhile, in which case it is closed.
    mutating func dialSucceeded(_ connection: Connection, generation: Int) -> [Action] {
        dialling -= 1
        dialledTotal += 1
        guard generation == self.generation, !isShutDown else {
            closedTotal += 1
            return [.close(connection)] + wakeOne()
        }
        leased[ObjectIdentifier(connection)] = generation
        return []
    }

    mutating func dialFailed(_ error: String) -> [Action] {
        dialling -= 1
        lastError = error
        return wakeOne()
    }

    /// A connection dialled outside `lease` (the discovery's verified one) joins as idle.
    mutating func adopt(_ connection: Connection, generation: Int) -> [Action] {
        dialledTotal += 1
        guard generation == self.generation, !isShutDown, total < maxSize else {
            closedTotal += 1
            return [.close(connection)]
        }
        idle.append(connection)
        return wakeOne()
    }

    /// A leased connection comes back. A broken one, or one of an old generation, is closed.
    mutating func release(_ connection: Connection, healthy: Bool, error: String? = nil) -> [Action] {
        guard let generation = leased.removeValue(forKey: ObjectIdentifier(connection)) else { return [] }
        if let error { lastError = error }
        if !healthy || generation != self.generation || isShutDown {
            closedTotal += 1
            return [.close(connection)] + wakeOne()
        }
        idle.append(connection)
        return wakeOne()
    }

    /// Sentinel and ROLE agree on a master other than the one served (or on one after
    /// none was): a new generation; the waiters ask again.
    mutating func masterChanged() -> [Action] {
        generation += 1
        return closeIdle() + wakeAll()
    }

    /// The master served cannot be reached: stop handing out its connections.
    mutating func masterLost(_ error: String) -> [Action] {
        lastError = error
        generation += 1
        return closeIdle()
    }

    /// A failure while no master is served: only remembered.
    mutating func failed(_ error: String) {
        lastError = error
    }

    /// Closes what is idle and wakes every waiter (it will find `noMaster`).
    mutating func shutdown() -> [Action] {
        isShutDown = true
        return closeIdle() + wakeAll()
    }

    private mutating func closeIdle() -> [Action] {
        closedTotal += idle.count
        defer { idle.removeAll() }
        return idle.map { .close($0) }
    }

    private mutating func wakeOne() -> [Action] {
        waiters.isEmpty ? [] : [.wake(waiters.removeFirst())]
    }

    private mutating func wakeAll() -> [Action] {
        defer { waiters.removeAll() }
        return waiters.map { .wake($0) }
    }
}
