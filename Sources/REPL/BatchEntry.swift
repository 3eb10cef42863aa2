import RESP

/// One line of a batch, classified.
enum BatchLine: Sendable {
    case command(RESPCommand)
    /// Printed at its place without running anything (a split error, a blank line's prompt).
    case output(String)
    /// Runs alone, after every reply before it (meta-commands, SUBSCRIBE, help, quit).
    case barrier
    /// Not sent: its MULTI or WATCH block lost its connection. Prints `LostBlock`.
    case notRun(RESPCommand)
}

/// A line of a batch as `BatchStateMachine` queues it.
struct BatchEntry: Sendable {
    var line: [UInt8]
    var item: BatchLine
    /// The line is on the screen already (typed, not pasted; or shown before a resend).
    var shown: Bool
    /// Written between MULTI and EXEC: the server queues it.
    var sentInTransaction = false
    /// The command of a line that is one, sent or not.
    var command: RESPCommand? {
        switch item {
        case .command(let c), .notRun(let c): return c
        case .output, .barrier: return nil
        }
    }
    var isCommand: Bool { command != nil }
}
