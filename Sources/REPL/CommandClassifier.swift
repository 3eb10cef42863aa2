import RESP

/// The one place that classifies command lines, for the session, the batch pipeline
/// and the history: what a line is (quit, meta-command, help, a stream, a command),
/// which commands change connection state (SELECT, MULTI/EXEC/WATCH...), which must
/// never reach the history file, which print raw on a terminal. Whether a command may
/// be sent again is the library's `ResendRule` (read-only comes from the server).
/// Names are compared as bytes first: most of this runs for every line of a batch.
package enum CommandClassifier {
    /// What a line is, by its first word.
    package enum LineKind: Sendable, Equatable {
        /// `quit`, `exit`, `:quit`.
        case quit
        /// A `:` meta-command.
        case meta
        /// `help` (the REPL's own at a prompt; otherwise sent to the server, as redis-cli does).
        case help
        /// SUBSCRIBE and friends, MONITOR: the connection becomes a stream of messages.
        case streaming
        case command

        /// In a batch, a line of any other kind than a command runs alone, after every
        /// reply before it.
        package var runsAlone: Bool { self != .command }
    }

    package static func kind(of first: ArraySlice<UInt8>) -> LineKind {
        if quitNames.contains(first) { return .quit }
        if first.first == UInt8(ascii: ":") { return .meta }
        if helpName.contains(first) { return .help }
        if streamingNames.contains(first) { return .streaming }
        return .command
    }

    private static let quitNames = CommandNameSet(["QUIT", "EXIT", ":QUIT"])
    private static let helpName = CommandNameSet(["HELP"])
    private static let streamingNames = CommandNameSet(CommandNameSet.streamingNames)

    /// The upper-cased name of a command that may change connection state (SELECT,
    /// MULTI, EXEC, DISCARD, WATCH, UNWATCH, RESET), or nil; no string for other lines.
    static func stateCommandName(_ command: RESPCommand) -> String? {
        command.first.flatMap(stateCommandNames.match)
    }

    private static let stateCommandNames = CommandNameSet(["SELECT", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "RESET"])

    /// redis-cli's list (anchors §3): lines with secrets are kept out of history.
    package static func isSecret(_ words: RESPCommand) -> Bool {
        // Most lines are ruled out by their name alone, without a string.
        guard let first = words.first, let name = secretCommandNames.match(first) else { return false }
        let upper = words.map { String(decoding: $0, as: UTF8.self).uppercased() }
        switch name {
        case "AUTH": return true
        case "HELLO": return upper.contains("AUTH")
        case "ACL":
            return upper.count > 1 && ["SETUSER", "GETUSER", "DELUSER"].contains(upper[1])
        case "CONFIG":
            let secrets = ["MASTERAUTH", "MASTERUSER", "REQUIREPASS", "TLS-KEY-FILE-PASS", "TLS-CLIENT-KEY-FILE-PASS"]
            return upper.count > 2 && upper[1] == "SET" && upper.dropFirst(2).contains { secrets.contains($0) }
        case "MIGRATE": return upper.contains("AUTH") || upper.contains("AUTH2")
        case "SENTINEL":
            if upper.count > 3, upper[1] == "CONFIG", upper[2] == "SET" {
                return upper[3] == "SENTINEL-PASS" || upper[3] == "SENTINEL-USER"
            }
            if upper.count > 3, upper[1] == "SET" {
                return upper.dropFirst(3).contains { $0 == "AUTH-PASS" || $0 == "AUTH-USER" }
            }
            return false
        default: return false
        }
    }

    /// Commands whose reply redis-cli prints raw even on a terminal (`cliSendCommand`).
    static func printsRawOnTTY(_ command: RESPCommand) -> Bool {
        // Names are compared as bytes first: most commands are ruled out without a string.
        guard let name = command.first.flatMap(rawOnTTYNames.match) else { return false }
        let argc = command.count
        let sub = argc > 1 ? String(decoding: command[1], as: UTF8.self).uppercased() : ""
        switch name {
        case "INFO", "LOLWUT": return true
        case "DEBUG": return sub == "HTSTATS" || sub == "HTSTATS-KEY" || sub == "CLIENT-EVICTION"
        case "MEMORY": return sub == "MALLOC-STATS" || sub == "DOCTOR"
        case "CLUSTER": return argc == 2 && (sub == "NODES" || sub == "INFO")
        case "CLIENT": return sub == "LIST" || sub == "INFO"
        case "LATENCY": return (argc == 3 && sub == "GRAPH") || (argc == 2 && sub == "DOCTOR")
        case "PROXY": return sub == "INFO"
        default: return false
        }
    }

    private static let rawOnTTYNames = CommandNameSet(["INFO", "LOLWUT", "DEBUG", "MEMORY", "CLUSTER", "CLIENT", "LATENCY", "PROXY"])
    private static let secretCommandNames = CommandNameSet(["AUTH", "HELLO", "ACL", "CONFIG", "MIGRATE", "SENTINEL"])

}
