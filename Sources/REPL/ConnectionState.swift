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
        guard let name = CommandClassifier.stateCommandName(command) else { return false }
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

}
