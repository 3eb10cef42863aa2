import RESP

/// Which command lines destroy data or the deployment, so that the prompt names the
/// target and asks first. Two sources, kept apart:
/// - the server's: commands its ACL categories mark both `@dangerous` and `@write`
///   (FLUSHALL, FLUSHDB, SWAPDB, RESTORE, MIGRATE...), from `COMMAND` when it answers,
///   else as Redis 7.0 marks them. `@dangerous` alone is not enough: it also marks
///   reads such as INFO, ROLE, CONFIG GET and CLIENT LIST. SORT is left out: it writes
///   one key, and only with STORE.
/// - ours: commands that take down or reshape the deployment, which the server marks
///   `@admin` (among many reads) or not at all (SCRIPT FLUSH, FUNCTION FLUSH).
/// - and whole-keyspace or whole-key reads (KEYS, SMEMBERS, HGETALL, LRANGE k 0 -1...)
///   once what they read is over a size the person chooses.
package struct DangerousCommands: Sendable, Equatable {
    /// What makes a line ask first.
    package enum Danger: Sendable, Equatable {
        /// It destroys data or changes the deployment: always asks.
        case destroys(name: String, source: Source, scope: Scope)
        /// It reads the whole database (KEYS): asks when the database holds more keys than the limit.
        case readsDatabase(name: String)
        /// It reads a whole key: asks when `sizeCommand` (SCARD, HLEN...) says it is over the limit.
        case readsKey(name: String, key: [UInt8], sizeCommand: String)

        package var name: String {
            switch self {
            case .destroys(let name, _, _), .readsDatabase(let name), .readsKey(let name, _, _): name
            }
        }
    }

    package enum Source: String, Sendable, Equatable {
        /// The server's ACL categories: `@dangerous` and `@write`.
        case server
        /// Our own list.
        case ours
    }

    /// What the question counts for context.
    package enum Scope: Sendable, Equatable {
        /// The keys of every database (FLUSHALL).
        case everyDatabase
        /// The keys of the session's database.
        case database
    }

    /// `@dangerous` and `@write` commands, upper-case, a subcommand after a space.
    package private(set) var serverMarked: Set<String>

    /// Redis 7.0's `@dangerous` `@write` commands (SORT left out), for a server that does not answer `COMMAND`.
    package static let redis70Marked: Set<String> = ["FLUSHALL", "FLUSHDB", "SWAPDB", "RESTORE", "RESTORE-ASKING", "MIGRATE", "PFDEBUG"]

    /// Ours: what takes down or reshapes the deployment, or empties scripts and functions.
    package static let ours: Set<String> = [
        "SHUTDOWN", "REPLICAOF", "SLAVEOF", "FAILOVER", "DEBUG", "CONFIG SET", "CONFIG REWRITE", "CONFIG RESETSTAT",
        "SENTINEL FAILOVER", "SENTINEL RESET", "SENTINEL REMOVE", "SENTINEL SET", "CLUSTER RESET", "SCRIPT FLUSH",
        "FUNCTION FLUSH", "ACL DELUSER", "MODULE UNLOAD",
    ]

    /// Whole-key reads and the command that sizes their key.
    static let wholeKeyReads: [String: String] = [
        "SMEMBERS": "SCARD", "HGETALL": "HLEN", "HKEYS": "HLEN", "HVALS": "HLEN", "LRANGE": "LLEN", "ZRANGE": "ZCARD",
    ]

    /// Containers whose subcommand names the command (`CONFIG SET`).
    private static let containers: Set<String> = ["CONFIG", "SENTINEL", "CLUSTER", "SCRIPT", "FUNCTION", "ACL", "MODULE"]

    /// Every first word a dangerous line can start with: most lines of a paste are
    /// ruled out by it without making a string.
    private var firstWords: CommandNameSet

    package init(serverMarked: Set<String> = redis70Marked) {
        self.serverMarked = serverMarked
        let names = serverMarked.union(Self.ours).union(Self.wholeKeyReads.keys).union(["KEYS"])
        firstWords = CommandNameSet(Array(Set(names.map { String($0.prefix { $0 != " " }) })))
    }

    package static func == (lhs: DangerousCommands, rhs: DangerousCommands) -> Bool {
        lhs.serverMarked == rhs.serverMarked
    }

    /// From a `COMMAND` reply: each command's ACL categories (the 7th field), subcommands
    /// (the 10th) included. Nil when the reply carries no categories (an old or unusual server).
    package init?(commandReply: RESPValue) {
        var marked: Set<String> = []
        var sawCategories = false
        func visit(_ entry: RESPValue) {
            guard let fields = entry.elements, fields.count >= 7, let name = fields[0].string else { return }
            let categories = Set((fields[6].elements ?? []).compactMap(\.string))
            sawCategories = sawCategories || !categories.isEmpty
            let display = String(name.uppercased().map { $0 == "|" ? " " : $0 })
            if categories.contains("@dangerous") && categories.contains("@write") && display != "SORT" {
                marked.insert(display)
            }
            if fields.count >= 10 { (fields[9].elements ?? []).forEach(visit) }
        }
        (commandReply.elements ?? []).forEach(visit)
        guard sawCategories else { return nil }
        self.init(serverMarked: marked)
    }

    /// What makes this command line ask first, or nil.
    package func danger(of words: RESPCommand) -> Danger? {
        guard let first = words.first, firstWords.contains(first) else { return nil }
        let name = String(decoding: first, as: UTF8.self).uppercased()
        let sub = words.count > 1 ? String(decoding: words[1], as: UTF8.self).uppercased() : ""
        let full = Self.containers.contains(name) && !sub.isEmpty ? "\(name) \(sub)" : name
        if serverMarked.contains(full) {
            return .destroys(name: full, source: .server, scope: full == "FLUSHALL" ? .everyDatabase : .database)
        }
        if Self.ours.contains(full) { return .destroys(name: full, source: .ours, scope: .database) }
        if name == "KEYS" { return .readsDatabase(name: name) }
        if let size = Self.wholeKeyReads[name], words.count >= 2, readsWholeKey(name, words) {
            return .readsKey(name: name, key: Array(words[1]), sizeCommand: size)
        }
        return nil
    }

    /// LRANGE and ZRANGE read the whole key only from 0 to -1.
    private func readsWholeKey(_ name: String, _ words: RESPCommand) -> Bool {
        guard name == "LRANGE" || name == "ZRANGE" else { return words.count == 2 }
        return words.count >= 4 && words[2].elementsEqual("0".utf8) && words[3].elementsEqual("-1".utf8)
    }
}

extension Int {
    /// `1,204,332`: a count as the question shows it.
    var grouped: String {
        let digits = String(magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return self < 0 ? "-" + out : out
    }
}
