import RESP
import SentinelClient

/// What the commands of a session have set on its connection: the database,
/// an open MULTI, a WATCH; and, for lines written ahead of their replies (a batch),
/// the block open where they are written. The one owner of MULTI/WATCH state. A
/// plain value: `track` follows replies, `drop` forgets what a lost connection took
/// with it, `write` follows lines as they are written.
struct ConnectionState: Sendable, Equatable {
    /// The database the command line asked for; the handshake selects it.
    let initialDatabase: Int
    private(set) var database: Int
    private(set) var inTransaction = false
    private(set) var watching = false
    /// The MULTI or WATCH block open where lines are being written, ahead of their
    /// replies, and the connection its first line went to. A dropped connection does
    /// not clear it: the lines after a lost block are told apart by it (see `step`).
    private(set) var writing: OpenBlock?

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
        inTransaction || (watching && command.first.map(Self.relyOnWatch.contains) == true)
    }

    private static let relyOnWatch = CommandNameSet(["MULTI", "EXEC"])

    // MARK: Lines written ahead of their replies

    /// `command` is to be written on `connection`: whether it may run there (see
    /// `step`), and whether the server queues it in a transaction. The block open
    /// where lines are written follows it.
    mutating func write(_ command: RESPCommand, on connection: any AnyObject & Sendable) -> (runs: Bool, queued: Bool) {
        let name = CommandClassifier.stateCommandName(command)  // a string only for MULTI, EXEC...
        let queued = writing?.kind == .transaction && name != "MULTI"
        let (runs, open) = Self.step(writing, name, on: connection)
        writing = open
        return (runs, queued)
    }

    /// Lines are written again from an earlier point: the block open there was
    /// `block`, and `commands` went out on `connection` after it.
    mutating func rewindWriting(to block: OpenBlock?, over commands: [RESPCommand], on connection: any AnyObject & Sendable) {
        writing = block
        for command in commands { _ = write(command, on: connection) }
    }

    /// Nothing is written ahead any more (a typed line ran and was answered): lines
    /// written next continue the block `connection` holds now.
    mutating func writeAfterReplies(on connection: (any AnyObject & Sendable)?) {
        guard let connection, inTransaction || watching else {
            writing = nil
            return
        }
        writing = OpenBlock(kind: inTransaction ? .transaction : .watch, connection: connection)
    }

    /// The stream of written lines was cut (Ctrl-C): what follows starts afresh.
    mutating func cutWriting() {
        writing = nil
    }

    /// What one command line does to the block open where lines are written, when it
    /// is to go out on `connection`: whether it may run there, and the block open after
    /// it. A transaction whose first line went to another connection is lost: its lines
    /// up to EXEC or DISCARD do not run (elsewhere they would run one by one); after a
    /// lost WATCH, ordinary lines run but its MULTI ... EXEC does not (it would run
    /// without the WATCH). A new MULTI after a lost transaction starts a new one.
    static func step(
        _ open: OpenBlock?, _ name: String?, on connection: any AnyObject & Sendable
    ) -> (runs: Bool, open: OpenBlock?) {
        guard let open else {
            switch name {
            case "MULTI": return (true, OpenBlock(kind: .transaction, connection: connection))
            case "WATCH": return (true, OpenBlock(kind: .watch, connection: connection))
            default: return (true, nil)
            }
        }
        let lost = open.connection !== connection
        switch (open.kind, name) {
        case (.transaction, "MULTI") where lost: return (true, OpenBlock(kind: .transaction, connection: connection))
        case (.transaction, "EXEC"), (.transaction, "DISCARD"), (.transaction, "RESET"): return (!lost, nil)
        case (.transaction, _): return (!lost, open)
        case (.watch, "MULTI"): return (!lost, OpenBlock(kind: .transaction, connection: open.connection))
        case (.watch, "EXEC"), (.watch, "DISCARD"): return (!lost, nil)
        case (.watch, "UNWATCH"), (.watch, "RESET"): return (true, nil)
        case (.watch, _): return (true, open)
        }
    }
}
