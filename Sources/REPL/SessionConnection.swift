import RESP
import SentinelClient

/// Where the session's commands go: the master, or one replica (read-only).
enum SessionTarget: Equatable {
    case master
    case replica
}

/// The session's pinned connection and the state on it: the one owner of the
/// lease (or the replica connection), the database and MULTI/WATCH. Confined to the
/// session actor that holds it (its async methods run on the caller's actor).
final class SessionConnection {
    private let client: SentinelClient
    private var lease: LeasedConnection?
    private(set) var state: ConnectionState
    private(set) var target = SessionTarget.master
    /// On a replica session: the replica connection, and the last one's address with
    /// why it went (nil: dropped by the session, as after Ctrl-C; it is tried first again).
    private var replica: RedisConnection?
    private var lastReplica: (address: ServerAddress, gone: String?)?

    init(client: SentinelClient, database: Int) {
        self.client = client
        state = ConnectionState(database: database)
    }

    /// The replica the session reads from now (replica sessions).
    var replicaAddress: ServerAddress? { replica?.address }
    /// The replica it read from last, also after its connection went.
    var lastReplicaAddress: ServerAddress? { lastReplica?.address }

    private var current: RedisConnection? { target == .replica ? replica : lease?.connection }

    func isCurrent(_ connection: RedisConnection) -> Bool {
        current === connection
    }

    /// A reply on this connection: its state follows; true when the prompt changed.
    func track(_ command: RESPCommand, _ reply: RESPValue) -> Bool {
        state.track(command, reply)
    }

    /// The state on this connection, for a batch: replies tracked, lines written ahead.
    func withState<T>(_ body: (inout ConnectionState) -> T) -> T {
        body(&state)
    }

    /// Nothing is written ahead of its reply: a later batch continues the block this
    /// connection holds now.
    func writeAfterReplies() {
        state.writeAfterReplies(on: current)
    }

    /// Runs `command` on the connection, a new one (SELECT restored) when it is gone or
    /// belongs to an old master, with the client's failover rules; follows its state.
    /// Returns the notice to show when MULTI or WATCH was lost with a replaced connection.
    nonisolated(nonsending) func execute(
        _ command: RESPCommand
    ) async -> (result: Result<RESPValue, SentinelClientError>, notice: String?) {
        if target == .replica { return await executeOnReplica(command) }
        do {
            let (reply, fresh) = try await client.execute(
                command, on: lease, prepare: restoreDatabase(), stayOnPinned: state.mustStayOnConnection(command))
            let notice = adopt(fresh)
            state.track(command, reply)
            return (.success(reply), notice)
        } catch {
            // The client released the lease it failed on: it is not ours any more.
            lease = nil
            return (.failure(error), nil)
        }
    }

    /// The connection for pipelined lines: the current one if still usable, else a new
    /// one with SELECT restored. The notice says what a replaced connection lost.
    nonisolated(nonsending) func connection() async throws -> (RedisConnection, notice: String?) {
        if target == .replica {
            if let found = try await replicaConnection(avoiding: []) { return found }
            // `:use master` moved the session while a replica was connected.
            return try await connection()
        }
        // While the client follows a promotion, new lines wait for its outcome.
        await client.awaitFailoverDecision()
        if let current = await usable() { return (current, nil) }
        let fresh = try await client.lease()
        do {
            try await restoreDatabase()(fresh.connection)
        } catch {
            await client.release(fresh, healthy: false)
            throw error
        }
        if let old = lease, old.connection !== fresh.connection { await client.release(old, healthy: false) }
        return (fresh.connection, adopt(fresh))
    }

    /// The pinned connection if it can serve as it is; nil when it must be replaced.
    nonisolated(nonsending) func usable() async -> RedisConnection? {
        if target == .replica { return replica?.isActive == true ? replica : nil }
        guard let lease, await client.isUsable(lease) else { return nil }
        return lease.connection
    }

    /// The connection failed or was abandoned: it goes, and with it MULTI and WATCH.
    nonisolated(nonsending) func drop(error: String) async -> String? {
        if target == .replica {
            dropReplica(gone: nil)
            return state.drop(reason: nil)
        }
        if let lease { await client.release(lease, healthy: false, error: error) }
        lease = nil
        return state.drop(reason: nil)
    }

    /// The master changed under an open MULTI or WATCH; on a replica session, true
    /// when the replica in use is the new master (the session must move).
    func masterChanged(to master: ServerAddress) -> (notice: String?, replicaPromoted: Bool) {
        guard target == .replica else { return (lease == nil ? nil : state.drop(reason: "the master changed"), false) }
        guard let replica, replica.address == master else { return (nil, false) }
        dropReplica(gone: "was promoted to master")
        return (state.drop(reason: "the replica was promoted"), true)
    }

    /// Sentinel says the replica in use is down (`+sdown slave`): true when it was in use.
    func replicaReportedDown(_ address: ServerAddress) -> Bool {
        guard target == .replica, replica?.address == address else { return false }
        dropReplica(gone: "is down (Sentinel's +sdown)")
        return true
    }

    /// Gives the master's connection back (to the pool when `healthy`, else closed) and
    /// closes the replica connection.
    nonisolated(nonsending) func release(healthy: Bool) async {
        let held = lease
        lease = nil
        if let held { await client.release(held, healthy: healthy) }
        dropReplica(gone: nil)
    }

    // MARK: Replica sessions

    /// Moves the session to a replica: `address`, or the next healthy one. The master's
    /// connection goes back first only once the replica answered, so a refusal changes nothing.
    nonisolated(nonsending) func useReplica(at address: ServerAddress?) async throws(SentinelClientError) -> String {
        let database = state.database
        let fresh: RedisConnection
        if let address {
            fresh = try await client.connectToReplica(address, database: database)
        } else {
            fresh = try await pickReplica(avoiding: [])
        }
        // The master's connection may hold MULTI, WATCH or another database: it is closed, not pooled.
        await release(healthy: false)
        let lost = state.drop(reason: "the session moved")
        target = .replica
        adoptReplica(fresh)
        return ([lost].compactMap { $0 } + ["-- the session is on replica \(fresh.address) (read-only)"]).joined(separator: "\n")
    }

    /// Moves the session back to the master (its connection comes at the next command).
    nonisolated(nonsending) func useMaster() async -> String {
        guard target == .replica else { return "-- the session is on the master" }
        let lost = state.drop(reason: "the session moved")
        dropReplica(gone: nil)
        lastReplica = nil
        target = .master
        return ([lost].compactMap { $0 } + ["-- the session is on the master"]).joined(separator: "\n")
    }

    private nonisolated(nonsending) func executeOnReplica(
        _ command: RESPCommand
    ) async -> (result: Result<RESPValue, SentinelClientError>, notice: String?) {
        var notices: [String] = []
        var failed: Set<ServerAddress> = []
        while true {
            let connection: RedisConnection
            do {
                guard let (found, notice) = try await replicaConnection(avoiding: failed) else {
                    // `:use master` moved the session while a replica was connected.
                    return await execute(command)
                }
                connection = found
                notice.map { notices.append($0) }
            } catch {
                return (.failure(error), notices.isEmpty ? nil : notices.joined(separator: "\n"))
            }
            do {
                let reply = try await connection.send(command)
                state.track(command, reply)
                return (.success(reply), notices.isEmpty ? nil : notices.joined(separator: "\n"))
            } catch {
                // Ctrl-C drops it by the session's choice: the same replica is tried first again.
                let gone = error.code == .cancelled ? nil : "closed its connection (\(error.reason.map { "\($0)" } ?? error.description))"
                dropReplica(connection, gone: gone)
                // Not written, or a read whose reply was lost: it runs on the next replica, once;
                // never a line that needs this connection (MULTI, WATCH).
                if failed.isEmpty, await client.mayResend(command, after: error, pinned: state.mustStayOnConnection(command)) {
                    failed.insert(connection.address)
                    continue
                }
                return (.failure(error), notices.isEmpty ? nil : notices.joined(separator: "\n"))
            }
        }
    }

    /// The replica connection if it serves; else a new one in the session's database:
    /// the last replica again when the session itself dropped it, else the next healthy
    /// one, with the notice that says where the session moved and why. Nil when `:use
    /// master` moved the session meanwhile (only a move after an event can race with it).
    private nonisolated(nonsending) func replicaConnection(
        avoiding failed: Set<ServerAddress>
    ) async throws(SentinelClientError) -> (RedisConnection, notice: String?)? {
        if let replica, replica.isActive, !failed.contains(replica.address) { return (replica, nil) }
        if replica != nil { dropReplica(gone: "closed its connection") }
        let previous = lastReplica
        var again: RedisConnection?
        if let previous, previous.gone == nil, !failed.contains(previous.address) {
            again = try? await client.connectToReplica(previous.address, database: state.database)
        }
        let fresh: RedisConnection
        if let again { fresh = again } else { fresh = try await pickReplica(avoiding: failed.union(previous.map { [$0.address] } ?? [])) }
        // Meanwhile another line may have connected, or `:use master` moved the session.
        if let other = replica, other.isActive {
            fresh.close(reason: "another line connected first")
            return (other, nil)
        }
        guard target == .replica else {
            fresh.close(reason: "the session moved to the master")
            return nil
        }
        let lost = state.drop(reason: "the session connection was replaced")
        adoptReplica(fresh)
        guard let previous, previous.address != fresh.address else { return (fresh, lost) }
        let move = "-- replica \(previous.address) \(previous.gone ?? "went away"); the session moves to replica \(fresh.address)"
        return (fresh, [lost, move].compactMap { $0 }.joined(separator: "\n"))
    }

    /// The next healthy replica, those `avoided` last. Sentinel kills every client of a
    /// replica it reconfigures, and the replica's link is down for a moment after: a few
    /// tries, 250 ms apart, before the session says it has none.
    private nonisolated(nonsending) func pickReplica(
        avoiding avoided: Set<ServerAddress>
    ) async throws(SentinelClientError) -> RedisConnection {
        var tries = 0
        while true {
            do {
                return try await client.connectToSomeReplica(avoiding: avoided, database: state.database)
            } catch {
                tries += 1
                guard tries < 4, error.code == .noHealthyReplica, (try? await Task.sleep(for: .milliseconds(250))) != nil else {
                    throw error
                }
            }
        }
    }

    private func adoptReplica(_ connection: RedisConnection) {
        replica = connection
        lastReplica = (connection.address, nil)
    }

    /// Closes the replica connection (only `connection`, when given: not one adopted since).
    private func dropReplica(_ connection: RedisConnection? = nil, gone reason: String?) {
        guard let replica, connection == nil || connection === replica else { return }
        replica.close(reason: reason ?? "dropped by the session")
        lastReplica = (replica.address, reason)
        self.replica = nil
    }

    private func adopt(_ fresh: LeasedConnection) -> String? {
        let replaced = lease.map { $0.connection !== fresh.connection } ?? false
        lease = fresh
        return replaced ? state.drop(reason: "the session connection was replaced") : nil
    }

    /// SELECT of the session's database on a new connection (the handshake selected
    /// the initial one).
    private func restoreDatabase() -> @Sendable (RedisConnection) async throws -> Void {
        let (database, initial) = (state.database, state.initialDatabase)
        return { connection in
            guard database != initial else { return }
            let reply = try await connection.send(RESPCommand("SELECT", String(database)))
            if let message = reply.errorMessage { throw SelectRefused(database: database, message: message) }
        }
    }
}

/// The session's database could not be selected on a new connection.
struct SelectRefused: Error, CustomStringConvertible {
    var database: Int
    var message: String
    var description: String { "SELECT \(database) was refused (\(message))" }
}
