import RESP
import SentinelClient

/// What the commands of a session have set on its connection: the database,
/// an open MULTI, a WATCH. A plain value: `track` follows replies, `drop` forgets
/// what a lost connection took with it.
struct ConnectionState: Sendable, Equatable {
    /// The database the command line asked for; the handshake selects it.
    let initialDatabase: Int
    private(set) var database: Int
    private(set) var inTransaction = false
    private(set) var watching = false

    init(database: Int) {
        initialDatabase = database
        self.database = database
    }

    /// Follows SELECT, MULTI/EXEC/DISCARD, WATCH/UNWATCH and RESET; true when what the
    /// prompt shows (database, transaction) changed.
    @discardableResult
    mutating func track(_ command: RESPCommand, _ reply: RESPValue) -> Bool {
        guard let name = Self.stateCommandName(command) else { return false }
        let shown = (database, inTransaction)
        apply(name, command, reply)
        return shown != (database, inTransaction)
    }

    private mutating func apply(_ name: String, _ command: RESPCommand, _ reply: RESPValue) {
        guard !reply.isError else {
            if name == "EXEC" { inTransaction = false }
            return
        }
        switch name {
        case "SELECT": database = command.argument(1).flatMap { Int($0) } ?? database
        case "MULTI": inTransaction = true
        case "EXEC", "DISCARD":
            inTransaction = false
            watching = false
        case "WATCH": watching = true
        case "UNWATCH": watching = false
        case "RESET":
            inTransaction = false
            watching = false
            database = 0
        default: break
        }
    }

    /// Forgets MULTI and WATCH; returns the notice that says so, if there was any.
    mutating func drop(reason: String?) -> String? {
        guard inTransaction || watching else { return nil }
        let lost = [inTransaction ? "MULTI" : nil, watching ? "WATCH" : nil].compactMap { $0 }.joined(separator: " and ")
        inTransaction = false
        watching = false
        return "-- \(lost) state was lost\(reason.map { " (\($0))" } ?? ""): start the transaction again"
    }

    /// MULTI or WATCH state lives on the connection: a command of the transaction (or
    /// the MULTI and EXEC that rely on a WATCH) runs there or not at all.
    func mustStayOnConnection(_ command: RESPCommand) -> Bool {
        inTransaction || (watching && Self.relyOnWatch.contains(command.arguments.first ?? []))
    }

    private static let relyOnWatch = CommandNameSet(["MULTI", "EXEC"])

    /// The upper-cased name of a command that may change connection state (SELECT,
    /// MULTI, EXEC, DISCARD, WATCH, UNWATCH, RESET), or nil; no string for other lines.
    static func stateCommandName(_ command: RESPCommand) -> String? {
        command.arguments.first.flatMap(stateCommandNames.match)
    }

    private static let stateCommandNames = CommandNameSet(["SELECT", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "RESET"])
}

/// The session's pinned connection and the state on it: the one owner of the
/// lease, the database and MULTI/WATCH. Confined to the session actor that holds
/// it (its async methods run on the caller's actor).
final class SessionConnection {
    private let client: SentinelClient
    private var lease: LeasedConnection?
    private(set) var state: ConnectionState

    init(client: SentinelClient, database: Int) {
        self.client = client
        state = ConnectionState(database: database)
    }

    /// The block a later paste continues, as the session's connection holds it.
    var openBlock: OpenBlock? {
        guard let connection = lease?.connection, state.inTransaction || state.watching else { return nil }
        return OpenBlock(kind: state.inTransaction ? .transaction : .watch, connection: connection)
    }

    func isCurrent(_ connection: RedisConnection) -> Bool {
        lease?.connection === connection
    }

    /// A reply on this connection: its state follows; true when the prompt changed.
    func track(_ command: RESPCommand, _ reply: RESPValue) -> Bool {
        state.track(command, reply)
    }

    /// Runs `command` on the connection, a new one (SELECT restored) when it is gone or
    /// belongs to an old master, with the client's failover rules; follows its state.
    /// Returns the notice to show when MULTI or WATCH was lost with a replaced connection.
    nonisolated(nonsending) func execute(
        _ command: RESPCommand
    ) async -> (result: Result<RESPValue, SentinelClientError>, notice: String?) {
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
        guard let lease, await client.isUsable(lease) else { return nil }
        return lease.connection
    }

    /// The connection failed or was abandoned: it goes, and with it MULTI and WATCH.
    nonisolated(nonsending) func drop(error: String) async -> String? {
        if let lease { await client.release(lease, healthy: false, error: error) }
        lease = nil
        return state.drop(reason: nil)
    }

    /// The master changed under an open MULTI or WATCH.
    func masterChanged() -> String? {
        lease == nil ? nil : state.drop(reason: "the master changed")
    }

    /// Gives the connection back, healthy, before the client shuts down.
    nonisolated(nonsending) func release() async {
        let held = lease
        lease = nil
        if let held { await client.release(held, healthy: true) }
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
