import Logging
import NIOCore
import NIOPosix
import RESP

/// A connection taken from the pool; give it back with `release`.
public struct LeasedConnection: Sendable {
    public let connection: RedisConnection
    /// The pool generation it was leased in; compare with `SentinelClient.generation`.
    public let generation: Int
}

/// A Sentinel-aware Redis client: finds the master through Sentinel, verifies
/// it with ROLE, pools connections to it, and follows failovers.
///
/// One actor owns all mutable state; connections live on their event loops.
/// Shut it down explicitly with `shutdown()`; `deinit` does no I/O.
public actor SentinelClient {
    public nonisolated let configuration: SentinelClientConfiguration
    public nonisolated let events: AsyncStream<TopologyEvent>
    nonisolated let group: EventLoopGroup
    nonisolated let logger: Logger
    private nonisolated let ownsGroup: Bool
    private nonisolated let eventSink: AsyncStream<TopologyEvent>.Continuation
    private nonisolated let registry = ConnectionRegistry()

    private enum State { case new, running, shuttingDown, shutDown }
    private var state = State.new
    private var pool: PoolStateMachine<RedisConnection>
    private var sentinels: [SentinelInfo]
    private var masterInfo: MasterInfo?
    private var masterReachable = true
    private var failovers = 0
    private var waiters: [PoolStateMachine<RedisConnection>.WaiterID: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiterID: UInt64 = 0
    private var reconcileTask: Task<Void, Never>?
    private var reconcileAgain = false
    private var backgroundTasks: [Task<Void, Never>] = []
    private var watcherConnections: [ServerAddress: RedisConnection] = [:]
    private var shutdownTask: Task<Void, Never>?
    private var readOnlyCommands: [String: Bool] = [:]
    private var discoveryAttempts: [DiscoveryAttempt] = []
    private var lostWatchers: Set<ServerAddress> = []

    public init(
        configuration: SentinelClientConfiguration,
        eventLoopGroup: EventLoopGroup? = nil,
        logger: Logger = Logger(label: "sentinel-client")
    ) {
        self.configuration = configuration
        self.group = eventLoopGroup ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.ownsGroup = eventLoopGroup == nil
        self.logger = logger
        self.pool = PoolStateMachine(maxSize: configuration.poolSize)
        self.sentinels = configuration.sentinels.map {
            SentinelInfo(address: $0, origin: .configured, subscribed: false)
        }
        (self.events, self.eventSink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(256))
    }

    // MARK: Start

    /// Finds and verifies the master, then starts following failovers.
    /// Throws a `SentinelClientError` that names every sentinel tried.
    public func start() async throws {
        guard state == .new else { throw SentinelClientError.shutDown }
        state = .running
        let result = try await discover()
        apply(result)
        guard configuration.followFailovers else { return }
        for sentinel in sentinels.prefix(configuration.watchedSentinels).map(\.address) {
            backgroundTasks.append(Task { await self.watch(sentinel) })
        }
        backgroundTasks.append(Task { await self.reconcilePeriodically() })
    }

    // MARK: Commands

    /// Sends one command to the master. A command that certainly did not run is
    /// retried after a failover; one that may have run is retried only when it is
    /// read-only (COMMAND INFO flags), otherwise its in-doubt error is thrown.
    public func send(_ command: RESPCommand) async throws -> RESPValue {
        let (reply, lease) = try await send(command, on: nil)
        release(lease, healthy: true)
        return reply
    }

    /// Sends one command on a pinned connection, with the same failover rules as
    /// `send(_:)`. When the pinned connection is gone or belongs to an old master, a
    /// new one is leased and `prepare` runs on it first (to restore SELECT, say).
    /// Returns the reply and the connection it ran on, which the caller keeps.
    ///
    /// With `stayOnPinned` (the connection holds MULTI or WATCH state), the command
    /// runs on `pinned` or not at all: no other connection, no retry; a lost
    /// connection throws `pinnedConnectionLost`, and a READONLY reply is returned.
    public func send(
        _ command: RESPCommand, on pinned: LeasedConnection?,
        prepare: (@Sendable (RedisConnection) async throws -> Void)? = nil,
        stayOnPinned: Bool = false
    ) async throws -> (reply: RESPValue, lease: LeasedConnection) {
        var current = pinned
        if let lease = pinned, lease.generation != pool.generation || !lease.connection.isActive {
            let reason = lease.connection.isActive ? "the master changed" : "the connection closed"
            release(lease, healthy: false)
            current = nil
            if stayOnPinned {
                await reconcile(reason: "the pinned connection to \(lease.connection.address) is gone")
                throw SentinelClientError.pinnedConnectionLost(
                    command: command.name, address: lease.connection.address, reason: reason)
            }
        }
        var attempt = 0
        let retries = stayOnPinned ? 1 : 3
        while true {
            attempt += 1
            // After the first pass `current` is nil: a retry always takes a fresh lease.
            let lease: LeasedConnection
            if let current {
                lease = current
            } else {
                lease = try await self.lease()
                do { try await prepare?(lease.connection) } catch {
                    release(lease, healthy: false, error: "\(error)")
                    throw error
                }
            }
            let reply: RESPValue
            do {
                reply = try await lease.connection.send(command)
            } catch let error as SentinelClientError {
                release(lease, healthy: false, error: error.description)
                current = nil
                if Task.isCancelled { throw CancellationError() }
                await reconcile(reason: "a command failed: \(error)")
                guard attempt < retries else { throw error }
                if error.certainlyNotRun { continue }
                if case .commandInDoubt = error, await isReadOnly(command) { continue }
                throw error
            }
            if let message = reply.errorMessage, message.hasPrefix("READONLY"), attempt < retries {
                // A demoted master refused the write: it did not run, and the master moved.
                release(lease, healthy: false, error: message)
                current = nil
                await reconcile(reason: "READONLY from \(lease.connection.address)")
                continue
            }
            return (reply, lease)
        }
    }

    /// The generation of the current master's connections; it changes with the master.
    public var generation: Int { pool.generation }

    /// Sends the commands in one flush on one connection; one result per command,
    /// in order. Nothing is retried: an interrupted command reports in doubt or not sent.
    public func pipeline(_ commands: [RESPCommand]) async throws -> [Result<RESPValue, Error>] {
        let lease = try await lease()
        let results = await lease.connection.pipeline(commands)
        let failed = results.contains { if case .failure = $0 { return true } else { return false } }
        release(lease, healthy: !failed && lease.connection.isActive)
        if failed { await reconcile(reason: "a pipelined command failed") }
        return results
    }

    /// Takes a connection to the current master, waiting (up to `masterWaitTimeout`)
    /// for a master during a failover or for a free slot when the pool is full.
    public func lease() async throws -> LeasedConnection {
        let deadline = NIODeadline.now() + configuration.masterWaitTimeout
        while true {
            guard state == .running else { throw SentinelClientError.shutDown }
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
                    if actions.isEmpty { return LeasedConnection(connection: connection, generation: generation) }
                } catch {
                    perform(pool.dialFailed("\(error)"))
                    if case SentinelClientError.shutDown = error { throw error }
                    if case SentinelClientError.connectFailed(_, .authenticationFailed(let message)) = error {
                        throw SentinelClientError.masterAuthenticationFailed(address: address, message: message)
                    }
                    await reconcile(reason: "could not connect to the master: \(error)")
                }
            case .wait:
                await waitForSlot(waiter, until: deadline)
            case .noMaster:
                if NIODeadline.now() >= deadline { break }
                await reconcile(reason: "a command waits for a master")
                if pool.master == nil {
                    try? await Task.sleep(nanoseconds: UInt64(configuration.unreachableRetryInterval.nanoseconds))
                }
            }
            try Task.checkCancellation()
            if NIODeadline.now() >= deadline {
                throw SentinelClientError.masterUnavailable(
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

    public var poolSnapshot: PoolStateMachine<RedisConnection>.Snapshot { pool.snapshot }
    public var master: MasterInfo? { masterInfo }
    public var knownSentinels: [SentinelInfo] { sentinels }
    public var failoversFollowed: Int { failovers }
    /// The failed tries of the last successful discovery (empty when the first sentinel answered).
    public var lastDiscoveryAttempts: [DiscoveryAttempt] { discoveryAttempts }
    /// Connections open right now, data nodes and sentinels together.
    public nonisolated var openConnections: Int { registry.count }

    // MARK: Live topology probes (for :sentinels, :master, :replicas)

    /// Asks every known sentinel, concurrently, which master it names now.
    public func probeSentinels() async -> [SentinelProbe] {
        let discovery = makeDiscovery()
        let known = sentinels
        let watched = Set(known.filter(\.subscribed).map(\.address))
        return await withTaskGroup(of: (Int, SentinelProbe).self) { group in
            for (index, info) in known.enumerated() {
                group.addTask {
                    var probe = SentinelProbe(
                        address: info.address, origin: info.origin, subscribed: watched.contains(info.address))
                    do {
                        let answer = try await discovery.ask(info.address)
                        probe.reachable = true
                        probe.latencyMicroseconds = answer.latencyMicroseconds
                        probe.namedMaster = answer.master
                    } catch {
                        probe.error = discovery.reason(for: error).description
                    }
                    return (index, probe)
                }
            }
            var probes: [(Int, SentinelProbe)] = []
            for await probe in group { probes.append(probe) }
            return probes.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Replicas as the first answering sentinel lists them, each checked with ROLE.
    public func probeReplicas() async throws -> [ReplicaProbe] {
        let discovery = makeDiscovery()
        var lastError: Error = SentinelClientError.noSentinelReachable(masterName: configuration.masterName, attempts: [])
        for sentinel in sentinels.map(\.address) {
            do {
                let listed = try await discovery.listReplicas(sentinel)
                return await withTaskGroup(of: (Int, ReplicaProbe).self) { group in
                    for (index, replica) in listed.enumerated() {
                        group.addTask {
                            var probe = replica
                            probe.role = await discovery.role(of: replica.address)
                            return (index, probe)
                        }
                    }
                    var probes: [(Int, ReplicaProbe)] = []
                    for await probe in group { probes.append(probe) }
                    return probes.sorted { $0.0 < $1.0 }.map(\.1)
                }
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private func makeDiscovery() -> Discovery {
        Discovery(configuration: configuration) { [self] address, handshake, timeout in
            try await self.dial(address, handshake, timeout, commandTimeout: .some(timeout))
        }
    }

    // MARK: Shutdown

    /// Stops watchers (unsubscribing), fails waiting and in-flight commands with a
    /// clear error, closes every connection, then shuts down the event loop group
    /// if the client created it. Safe to call more than once.
    public func shutdown() async {
        if let running = shutdownTask {
            await running.value
            return
        }
        let task = Task { await self.performShutdown() }
        shutdownTask = task
        await task.value
    }

    private func performShutdown() async {
        state = .shuttingDown
        let watchers = watcherConnections
        watcherConnections = [:]
        await withTaskGroup(of: Void.self) { group in
            for connection in watchers.values {
                group.addTask {
                    // The watcher reads the confirmations; a short grace lets them arrive.
                    connection.writeToStream(RESPCommand("UNSUBSCRIBE"))
                    _ = try? await withDeadline(.milliseconds(200)) {
                        try await connection.channel.closeFuture.get()
                    }
                    await connection.closeAndWait(reason: "the client is shutting down")
                }
            }
        }
        for task in backgroundTasks { task.cancel() }
        for task in backgroundTasks { await task.value }
        backgroundTasks = []
        reconcileTask?.cancel()
        await reconcileTask?.value
        perform(pool.shutdown())
        await registry.closeAll(reason: "the client was shut down")
        eventSink.finish()
        if ownsGroup {
            try? await group.shutdownGracefully()
        }
        state = .shutDown
        logger.debug("sentinel client shut down")
    }

    // MARK: Internals: connections

    private nonisolated func dial(
        _ address: ServerAddress, _ handshake: HandshakeSettings, _ timeout: TimeAmount,
        commandTimeout: TimeAmount?? = nil
    ) async throws -> RedisConnection {
        let connection = try await RedisConnection.connect(
            to: address, on: group, handshake: handshake, connectTimeout: timeout,
            commandTimeout: commandTimeout ?? configuration.commandTimeout)
        guard registry.add(connection) else {
            await connection.closeAndWait(reason: "the client is shut down")
            throw SentinelClientError.shutDown
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

    private func waitForSlot(_ waiter: UInt64, until deadline: NIODeadline) async {
        let timer = Task {
            try? await Task.sleep(nanoseconds: UInt64(max(0, (deadline - .now()).nanoseconds)))
            self.stopWaiting(waiter)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiters[waiter] = continuation
            }
        } onCancel: {
            Task { await self.stopWaiting(waiter) }
        }
        timer.cancel()
    }

    private func stopWaiting(_ waiter: UInt64) {
        pool.cancelWait(waiter)
        waiters.removeValue(forKey: waiter)?.resume()
    }

    /// COMMAND INFO flags say whether re-running a command is harmless. Cached.
    func isReadOnly(_ command: RESPCommand) async -> Bool {
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

    private func discover() async throws -> DiscoveryResult {
        try await makeDiscovery().run(order: sentinels.map(\.address)) { attempt, answer in
            await self.observe(attempt, answer)
        }
    }

    private func observe(_ attempt: DiscoveryAttempt?, _ answer: SentinelAnswer?) {
        if let answer, let index = sentinels.firstIndex(where: { $0.address == answer.sentinel }) {
            sentinels[index].reachable = true
            sentinels[index].latencyMicroseconds = answer.latencyMicroseconds
            sentinels[index].namedMaster = answer.master
            sentinels[index].lastError = nil
            for other in answer.otherSentinels where !sentinels.contains(where: { $0.address == other }) {
                sentinels.append(SentinelInfo(address: other, origin: .learned, subscribed: false))
                emit(.sentinelLearned(other))
            }
        }
        if let attempt, let index = sentinels.firstIndex(where: { $0.address == attempt.sentinel }) {
            sentinels[index].lastError = attempt.description
            if attempt.namedMaster == nil, attempt.reason != .unknownMasterName {
                sentinels[index].reachable = false
            }
        }
    }

    private func apply(_ result: DiscoveryResult) {
        let now = NIODeadline.now()
        discoveryAttempts = result.attempts
        if let index = sentinels.firstIndex(where: { $0.address == result.answeredBy.sentinel }), index > 0 {
            sentinels.insert(sentinels.remove(at: index), at: 0)
        }
        let previous = masterInfo?.address
        let moved = previous != result.master
        perform(pool.masterVerified(result.master))
        perform(pool.adopt(result.connection, generation: pool.generation))
        masterInfo = MasterInfo(
            name: configuration.masterName, address: result.master, answeredBy: result.answeredBy.sentinel,
            replicationOffset: result.role.replicationOffset, connectedReplicas: result.role.replicas,
            knownSince: moved ? now : masterInfo?.knownSince ?? now, verifiedAt: now)
        if moved {
            if previous != nil { failovers += 1 }
            logger.info("master verified", metadata: ["master": "\(result.master)", "previous": "\(previous.map { "\($0)" } ?? "none")"])
            emit(.masterSwitched(from: previous, to: result.master))
        } else if !masterReachable {
            emit(.masterReachable(result.master))
        }
        masterReachable = true
    }

    /// Asks Sentinel again and verifies with ROLE; concurrent calls share one run.
    public func reconcile(reason: String) async {
        guard state == .running else { return }
        if let running = reconcileTask {
            reconcileAgain = true
            await running.value
            return
        }
        logger.debug("reconciling", metadata: ["reason": "\(reason)"])
        let task = Task { await self.reconcileUntilSettled() }
        reconcileTask = task
        await task.value
        reconcileTask = nil
    }

    private func reconcileUntilSettled() async {
        repeat {
            reconcileAgain = false
            guard state == .running, !Task.isCancelled else { return }
            do {
                apply(try await discover())
            } catch SentinelClientError.noSentinelReachable(_, let attempts) {
                // Sentinels are gone but the master may be fine: keep using it.
                perform([])
                logger.warning("no sentinel reachable", metadata: ["tried": "\(attempts.count)"])
            } catch {
                markMasterUnreachable(error)
            }
        } while reconcileAgain
    }

    private func markMasterUnreachable(_ error: Error) {
        guard state == .running else { return }
        perform(pool.masterLost("\(error)"))
        if masterReachable {
            masterReachable = false
            emit(.masterUnreachable(masterInfo?.address, reason: "\(error)"))
        }
    }

    private func reconcilePeriodically() async {
        while !Task.isCancelled {
            let interval = masterReachable ? configuration.reconcileInterval : configuration.unreachableRetryInterval
            do { try await Task.sleep(nanoseconds: UInt64(interval.nanoseconds)) } catch { return }
            await reconcile(reason: "periodic check")
        }
    }

    private nonisolated func emit(_ event: TopologyEvent) {
        eventSink.yield(event)
    }

    // MARK: Internals: sentinel watchers

    /// Channels Sentinel publishes that tell us the master moved or may be moving.
    static let watchedChannels = [
        "+switch-master", "+odown", "-odown", "+sdown", "-sdown", "+try-failover", "+failover-end", "+sentinel",
    ]

    /// Keeps one subscription on `sentinel`, re-subscribing with backoff when the link drops.
    private func watch(_ sentinel: ServerAddress) async {
        var backoff = TimeAmount.milliseconds(100)
        var everConnected = false
        while !Task.isCancelled, state == .running {
            do {
                let connection = try await dial(
                    sentinel, configuration.sentinelHandshake, configuration.sentinelTryTimeout,
                    commandTimeout: .some(configuration.sentinelTryTimeout))
                guard state == .running else {
                    connection.close(reason: "the client is shutting down")
                    return
                }
                watcherConnections[sentinel] = connection
                let messages = connection.stream(RESPCommand(strings: ["SUBSCRIBE"] + Self.watchedChannels))
                var confirmed = 0
                for try await message in messages {
                    guard let kind = message.elements?.first?.string else { continue }
                    if kind == "subscribe" {
                        confirmed += 1
                        guard confirmed == Self.watchedChannels.count else { continue }
                        setSubscribed(sentinel, true)
                        backoff = .milliseconds(100)
                        if everConnected {
                            // Messages sent while the link was down are lost: look again.
                            await reconcile(reason: "sentinel \(sentinel) link re-established")
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
            guard !Task.isCancelled, state == .running else { return }
            try? await Task.sleep(nanoseconds: UInt64(backoff.nanoseconds))
            backoff = min(backoff * 2, .seconds(2))
        }
    }

    private func setSubscribed(_ sentinel: ServerAddress, _ subscribed: Bool) {
        guard let index = sentinels.firstIndex(where: { $0.address == sentinel }) else { return }
        let was = sentinels[index].subscribed
        sentinels[index].subscribed = subscribed
        sentinels[index].reachable = subscribed
        // The first subscription is no news; a link lost and found again is.
        if was != subscribed, state == .running, !subscribed || lostWatchers.contains(sentinel) {
            emit(subscribed ? .sentinelUp(sentinel) : .sentinelDown(sentinel))
        }
        if subscribed { lostWatchers.remove(sentinel) } else { lostWatchers.insert(sentinel) }
    }

    private func handle(_ message: RESPValue, from sentinel: ServerAddress) async {
        guard let items = message.elements, items.count >= 3, let channel = items[1].string,
            let payload = items[2].string
        else { return }
        let words = payload.split(separator: " ").map(String.init)
        logger.debug("sentinel event", metadata: ["sentinel": "\(sentinel)", "channel": "\(channel)", "payload": "\(payload)"])
        // Instance events read "<type> <name> <ip> <port> [@ <master> <ip> <port>]".
        let isOurMaster = words.count >= 4 && words[0] == "master" && words[1] == configuration.masterName
        switch channel {
        case "+switch-master":
            guard words.first == configuration.masterName else { return }
            await reconcile(reason: "+switch-master from \(sentinel)")
        case "+try-failover", "+odown":
            guard isOurMaster else { return }
            emit(.failoverStarted(master: ServerAddress(host: words[2], port: Int(words[3]) ?? 0), reportedBy: sentinel))
            await reconcile(reason: "\(channel) from \(sentinel)")
        case "+sdown", "-sdown", "-odown", "+failover-end":
            if isOurMaster {
                await reconcile(reason: "\(channel) from \(sentinel)")
            } else if words.count >= 4, words[0] == "sentinel", let port = Int(words[3]) {
                let address = ServerAddress(host: words[2], port: port)
                emit(channel == "+sdown" ? .sentinelDown(address) : .sentinelUp(address))
            }
        case "+sentinel":
            guard words.count >= 4, let port = Int(words[3]) else { return }
            let address = ServerAddress(host: words[2], port: port)
            if !sentinels.contains(where: { $0.address == address }) {
                sentinels.append(SentinelInfo(address: address, origin: .learned, subscribed: false))
                emit(.sentinelLearned(address))
            }
        default:
            return
        }
    }
}
