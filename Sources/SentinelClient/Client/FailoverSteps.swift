import NIOCore
import RESP

/// The steps of a write-pause failover (`SentinelClient.coordinatedFailover`), on
/// connections it holds: `control` to the master, one to each healthy replica. Commands
/// on them are not cut short by cancellation (a cancelled `send` closes its connection,
/// and `CLIENT UNPAUSE` must still go out); waits before `SENTINEL FAILOVER` are.
struct FailoverSteps: Sendable {
    let master: ServerAddress
    let control: RedisConnection
    let replicas: [ServerAddress: RedisConnection]
    let sentinel: SentinelClient
    private var group: any EventLoopGroup { sentinel.group }

    /// The pause's server-side timeout, renewed every `renewal`: a client that dies
    /// leaves the master paused this long at most.
    static let pauseSlice = TimeAmount.seconds(2)
    static let renewal = TimeAmount.milliseconds(500)
    /// How long the replicas have to reach the master's offset once writes stopped.
    static let catchUpLimit = TimeAmount.seconds(2)
    /// How long any node has to answer one command during the failover.
    static let replyTimeout = TimeAmount.seconds(1)

    private var pauseCommand: RESPCommand {
        RESPCommand("CLIENT", "PAUSE", String(Self.pauseSlice.nanoseconds / 1_000_000), "WRITE")
    }

    func pauseWrites() async throws(SentinelClientError) {
        let reply = try await Self.send(pauseCommand, on: control)
        if let message = reply.errorMessage {
            throw .failoverFailed("CLIENT PAUSE was refused (\(message))", master: master, after: "nothing was changed")
        }
    }

    func renewPauseUntilCancelled() async {
        while (try? await Task.sleep(nanoseconds: UInt64(Self.renewal.nanoseconds))) != nil {
            _ = try? await Self.send(pauseCommand, on: control)
        }
    }

    /// True when the master took `CLIENT UNPAUSE`.
    func resumeWrites() async -> Bool {
        (try? await Self.send(RESPCommand("CLIENT", "UNPAUSE"), on: control))?.errorMessage == nil
    }

    /// Catch-up, `SENTINEL FAILOVER`, the promotion, the old master demoted. Returns the
    /// new master, the master's offset when writes stopped and the promoted replica's.
    func switchMaster(until deadline: NIODeadline) async throws(SentinelClientError) -> (ServerAddress, Int64, Int64) {
        let (masterOffset, offsets) = try await waitForCatchUp()
        // The last point where stopping changes nothing: from here on the switch runs to its end.
        if Task.isCancelled { throw .failoverFailed("interrupted", master: master, after: "writes resumed on \(master); nothing else changed") }
        let reply = try await sentinel.requestFailover(coordinated: false)
        if let message = reply.errorMessage {
            throw .failoverFailed("Sentinel refused it (\(message))", master: master, after: "writes resumed on \(master); nothing else changed")
        }
        let promoted = try await waitForPromotion(until: deadline)
        try await demoteOldMaster(to: promoted)
        return (promoted, masterOffset, offsets[promoted] ?? masterOffset)
    }

    /// Every healthy replica at the master's offset (read again each round: it holds
    /// still while writes are paused).
    private func waitForCatchUp() async throws(SentinelClientError) -> (Int64, [ServerAddress: Int64]) {
        let limit = NIODeadline.now() + Self.catchUpLimit
        while true {
            let masterOffset = InfoText.masterOffset(try await info(control)) ?? 0
            let offsets = try await replicaOffsets()
            let behind = offsets.filter { $0.value < masterOffset }
            if behind.isEmpty { return (masterOffset, offsets) }
            guard NIODeadline.now() < limit, (try? await Task.sleep(nanoseconds: 5_000_000)) != nil else {
                let worst = behind.max { $0.value > $1.value }!
                let why = Task.isCancelled ? "interrupted" : "replica \(worst.key) is \(masterOffset - worst.value) bytes behind after 2 s"
                throw .failoverFailed(why, master: master, after: "writes resumed on \(master); nothing else changed")
            }
        }
    }

    /// Every replica's `slave_repl_offset` (-1 when INFO lacks it), read at once on all of them.
    private func replicaOffsets() async throws(SentinelClientError) -> [ServerAddress: Int64] {
        let readings = await SentinelClient.concurrently(Array(replicas)) { address, connection in
            do throws(SentinelClientError) {
                return (address, Result<Int64, SentinelClientError>.success(InfoText.replicaOffset(try await info(connection)) ?? -1))
            } catch {
                return (address, .failure(error))
            }
        }
        var offsets: [ServerAddress: Int64] = [:]
        for (address, reading) in readings {
            switch reading {
            case .success(let offset): offsets[address] = offset
            case .failure(let error):
                throw .failoverFailed(
                    "replica \(address)'s offset could not be read (\(error))", master: master,
                    after: "writes resumed on \(master); nothing else changed")
            }
        }
        return offsets
    }

    /// Polls ROLE on the replicas every 10 ms until one is master. Sentinel kills the
    /// clients of the replica it promotes: a connection that fails is made again.
    private func waitForPromotion(until deadline: NIODeadline) async throws(SentinelClientError) -> ServerAddress {
        var connections = replicas
        defer { for (address, connection) in connections where replicas[address] !== connection { connection.close(reason: "the failover is over") } }
        while NIODeadline.now() < deadline {
            for (address, connection) in connections {
                if let role = try? await Self.send(RESPCommand("ROLE"), on: connection) {
                    if role.elements?.first?.string == "master" { return address }
                    continue
                }
                connection.close(reason: "ROLE failed during the failover")
                if let fresh = try? await sentinel.dialForFailover(address) { connections[address] = fresh }
            }
            await Self.pause(.milliseconds(10), on: group)
        }
        throw .failoverFailed(
            "no replica was promoted before the timeout", master: master,
            after: "writes resumed on \(master); Sentinel may still promote one, and writes made on \(master) meanwhile would then be lost: check SENTINEL MASTER")
    }

    /// The old master replicates the new one before writes resume there: Sentinel would
    /// do it too, but its commands to the master wait behind its `PUBLISH`, which the
    /// pause holds back.
    private func demoteOldMaster(to promoted: ServerAddress) async throws(SentinelClientError) {
        let reply = try await Self.send(RESPCommand("REPLICAOF", promoted.host, String(promoted.port)), on: control)
        if let message = reply.errorMessage {
            throw .failoverFailed(
                "REPLICAOF on the old master was refused (\(message))", master: master,
                after: "\(promoted) is the master now and \(master) still takes writes: run REPLICAOF \(promoted.host) \(promoted.port) on it")
        }
    }

    private func info(_ connection: RedisConnection) async throws(SentinelClientError) -> String {
        try await Self.send(RESPCommand("INFO", "replication"), on: connection).string ?? ""
    }

    /// A command whose wait cancellation does not cut short (the connection's reply
    /// timeout still bounds it).
    static func send(_ command: RESPCommand, on connection: RedisConnection) async throws(SentinelClientError) -> RESPValue {
        do {
            return try await connection.write([command])[0].get()
        } catch {
            throw .wrapping(error, address: connection.address)
        }
    }

    /// A sleep that cancellation does not cut short.
    static func pause(_ amount: TimeAmount, on group: any EventLoopGroup) async {
        try? await group.next().scheduleTask(in: amount) {}.futureResult.get()
    }
}
