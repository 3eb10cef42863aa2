import Logging
import NIOCore
import NIOPosix
import RESP
import ServiceLifecycle

/// A Sentinel-aware Redis client: finds the master through Sentinel, verifies
/// it with ROLE, pools connections to it, and follows failovers.
///
/// Run it as a swift-service-lifecycle `Service` (or call `run()` in a task of
/// your own): `run()` owns the sentinel watchers and the reconcile loop, and on
/// its way out (graceful shutdown, cancellation or `shutdown()`) it stops them,
/// fails waiting commands, and closes every connection, in that order.
///
/// Every decision is a transition of one state machine (`SentinelClientStateMachine`);
/// the actor performs the actions it returns. Connections live on their event loops.
/// `deinit` does no I/O.
public actor SentinelClient: Service {
    typealias Waiter = CheckedContinuation<Void, Never>
    typealias StateMachine = SentinelClientStateMachine<RedisConnection, Waiter>

    public nonisolated let configuration: SentinelClientConfiguration
    nonisolated let group: any EventLoopGroup
    nonisolated let logger: Logger
    nonisolated let registry = ConnectionRegistry()
    private nonisolated let broadcaster = EventBroadcaster<TopologyEvent>()
    /// Finished by `shutdown()` or a graceful shutdown: `run()` then stops.
    private nonisolated let stopSignal = AsyncStream<Void>.makeStream()
    /// Wakes the reconcile loop when the state machine starts a run.
    nonisolated let reconcileWakes = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    /// Wakes the promotion loop when commands are held for a promotion.
    nonisolated let promotionWakes = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    /// Sentinels to start a watcher for (configured ones, then learned ones).
    private nonisolated let watcherStarts = AsyncStream<ServerAddress>.makeStream()

    /// The one piece of mutable state.
    var state: StateMachine

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
        self.state = StateMachine(configuration: configuration)
    }

    // MARK: Running

    /// Finds and verifies the master, then follows it until a graceful shutdown,
    /// cancellation or `shutdown()`; then shuts down in order and returns.
    /// Call it once. `verifiedMaster()` tells how the first discovery went.
    public func run() async {
        switch state.runCalled() {
        case .run: break
        case .returnAtOnce: return
        case .alreadyRunning:
            logger.error("SentinelClient.run() called more than once")
            return
        }
        let stop = stopSignal.continuation
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
        await withCheckedContinuation { perform(state.awaitFirstDiscovery($0)) }
        return try state.firstDiscoveryOutcome.get()
    }

    /// Asks `run()` to stop and waits until its ordered shutdown is done. Safe to
    /// call more than once, and before `run()` (then `run()` returns at once).
    public func shutdown() async {
        stopSignal.continuation.finish()
        switch state.shutdownCalled() {
        case .shutDownHere: await performShutdown()
        case .waitUntilStopped: await withCheckedContinuation { perform(state.awaitStopped($0)) }
        case .alreadyStopped: return
        }
    }

    private func superviseUntilStopped() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.maintainTopology() }
            for await _ in stopSignal.stream {}
            await unsubscribe(state.stopRequested())
            group.cancelAll()
        }
    }

    /// The first discovery, then the watchers and the reconcile loop, until cancelled.
    private func maintainTopology() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.reconcileLoop() }
            await reconcile(reason: "start")
            guard !Task.isCancelled, configuration.followFailovers else { return }
            group.addTask { await self.reconcilePeriodically() }
            if configuration.followPromotions { group.addTask { await self.promotionLoop() } }
            perform(state.watchKnownSentinels())
            // Ends when cancelled: each sentinel gets its watcher, learned ones too.
            for await sentinel in watcherStarts.stream {
                group.addTask { await self.watch(sentinel) }
            }
        }
    }

    // MARK: Observable state

    public var poolSnapshot: PoolSnapshot { state.poolSnapshot }
    /// The master, its reachability and the sentinels' agreement, from one moment.
    public var topologySnapshot: TopologySnapshot {
        TopologySnapshot(
            master: state.topology.master, isMasterReachable: state.topology.masterReachable,
            sentinelAgreement: state.topology.agreement, failoversFollowed: state.topology.failovers)
    }
    public var master: MasterInfo? { state.topology.master }
    public var knownSentinels: [SentinelInfo] { state.knownSentinels }
    public var failoversFollowed: Int { state.topology.failovers }
    /// The sentinels' stand on the master in use, as of the last probe of them all; nil before the first.
    public var sentinelAgreement: SentinelAgreement? { state.topology.agreement }
    /// False from a failed check of the master until one succeeds again.
    public var isMasterReachable: Bool { state.topology.masterReachable }
    /// The failed tries of the last successful discovery (empty when the first sentinel answered).
    public var lastDiscoveryAttempts: [DiscoveryAttempt] { state.topology.discoveryAttempts }
    /// Connections open right now, data nodes and sentinels together.
    public nonisolated var openConnections: Int { registry.count }

    /// Topology changes from now on, for each caller its own stream (a prompt, a
    /// metrics exporter). The stream ends when the client shuts down; a slow reader
    /// keeps the newest 256 events.
    public nonisolated func topologyEvents() -> AsyncStream<TopologyEvent> {
        broadcaster.makeStream()
    }

    // MARK: Shutdown

    /// Watchers unsubscribe first; a short grace lets the confirmations arrive (the
    /// watcher closes its link on the last one). A sentinel that does not answer
    /// (hung, or not a sentinel) has its link closed when the grace is over.
    private func unsubscribe(_ watchers: [RedisConnection]) async {
        await withTaskGroup(of: Void.self) { group in
            for connection in watchers {
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
        perform(state.shutDown())
        await registry.closeAll(reason: "the client was shut down")
        broadcaster.finish()
        logger.debug("sentinel client shut down")
        perform(state.stopped())
    }

    // MARK: Performing actions

    /// Performs what a transition of the state machine asked for, in order.
    func perform(_ actions: [StateMachine.Action]) {
        for action in actions {
            switch action {
            case .close(let connection, let reason): connection.close(reason: reason)
            case .closeConnections(let address, let reason): registry.close(to: address, reason: reason)
            case .resume(let waiter): waiter.resume()
            case .publish(let event):
                log(event)
                broadcaster.yield(event)
            case .reconcileRequested(let reason, let startRun):
                logger.debug("reconcile requested", metadata: ["reason": "\(reason)"])
                if startRun { reconcileWakes.continuation.yield() }
            case .followPromotion: promotionWakes.continuation.yield()
            case .watch(let sentinel): watcherStarts.continuation.yield(sentinel)
            }
        }
    }

    /// Logs each event as it is published.
    func log(_ event: TopologyEvent) {
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
    }

    /// Where `address` is dialled: as the address map says, except the sentinels given,
    /// which are dialled as given.
    public nonisolated func dialTarget(for address: ServerAddress) -> ServerAddress {
        configuration.dialTarget(for: address)
    }

    nonisolated func dial(
        _ address: ServerAddress, _ handshake: HandshakeSettings, _ timeout: TimeAmount,
        commandTimeout: TimeAmount?? = nil, keptOnMasterChange: Bool = false
    ) async throws(SentinelClientError) -> RedisConnection {
        let connection: RedisConnection
        do {
            connection = try await RedisConnection.connect(
                to: address, via: dialTarget(for: address), on: group, handshake: handshake, connectTimeout: timeout,
                commandTimeout: commandTimeout ?? configuration.commandTimeout)
        } catch where error.code == .connectFailed {
            guard let reason = error.reason.map({ configuration.failureReaching(address, $0) }),
                case .notInAddressMap = reason
            else { throw error }
            throw .connectFailed(address: address, reason: reason, underlying: error)
        }
        guard registry.add(connection, keptOnMasterChange: keptOnMasterChange) else {
            await connection.closeAndWait(reason: "the client is shut down")
            throw .shutDown
        }
        return connection
    }
}
