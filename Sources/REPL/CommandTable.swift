import NIOConcurrencyHelpers
import RESP

/// What `help <command>` shows, from `COMMAND DOCS`.
package struct CommandDoc: Sendable, Equatable {
    package var name: String
    package var summary: String
    package var since: String
    package var group: String
    package var syntax: String
    package var arguments: [CommandArgument] = []
}

/// Command names for completion and docs for `help`, from the server's
/// `COMMAND DOCS`, or a built-in list of names when it cannot be asked.
package struct CommandTable: Sendable {
    /// Keys are upper-case: `GET`, `CONFIG SET`.
    package private(set) var docs: [String: CommandDoc]
    package private(set) var names: [String]
    package static let metaCommands = [":master", ":pool", ":sentinels", ":replicas", ":safe", ":help", ":quit"]

    package init(docs: [String: CommandDoc]) {
        self.docs = docs
        self.names = docs.keys.sorted()
    }

    init(names: [String]) {
        self.docs = [:]
        self.names = names.sorted()
    }

    /// Names known without a server (Redis 7.0), containers with their subcommands.
    package static let builtIn: CommandTable = {
        var names = builtInNames.split(separator: " ").map(String.init)
        for (container, subs) in builtInSubcommands {
            names += subs.split(separator: " ").map { "\(container) \($0)" }
        }
        return CommandTable(names: names)
    }()

    /// Parses a `COMMAND DOCS` reply (RESP2 flat arrays or RESP3 maps).
    package static func parse(_ reply: RESPValue) -> CommandTable? {
        guard let entries = reply.pairs, !entries.isEmpty else { return nil }
        var docs: [String: CommandDoc] = [:]
        func add(_ name: String, _ value: RESPValue) {
            let fields = value.fieldMap
            let display = String(name.uppercased().map { $0 == "|" ? " " : $0 })
            let arguments = (fields["arguments"]?.elements ?? []).map(CommandArgument.parse)
            let syntax = ([display] + arguments.map(\.syntax)).joined(separator: " ")
            docs[display] = CommandDoc(
                name: display, summary: fields["summary"]?.string ?? "", since: fields["since"]?.string ?? "",
                group: fields["group"]?.string ?? "", syntax: syntax, arguments: arguments)
            for (sub, subValue) in fields["subcommands"]?.pairs ?? [] { add(sub, subValue) }
        }
        for (name, value) in entries { add(name, value) }
        return CommandTable(docs: docs)
    }

    /// The command `words` start and how many words name it (`CONFIG SET`: 2).
    private func doc(for words: [String]) -> (CommandDoc, Int)? {
        guard let first = words.first?.uppercased() else { return nil }
        if words.count > 1, let sub = docs["\(first) \(words[1].uppercased())"] { return (sub, 2) }
        return docs[first].map { ($0, 1) }
    }

    /// The hint after the cursor for `before` (the whole line, the cursor at its end):
    /// what the syntax still offers, with a leading space when the line does not end in
    /// one; nil without docs, or when the words do not fit the syntax.
    package func hint(_ before: String) -> String? {
        guard let words = try? CommandLineSplitter.split(Array(before.utf8)).map({ String(decoding: $0, as: UTF8.self) }),
            let (doc, named) = doc(for: words), !doc.arguments.isEmpty
        else { return nil }
        let endsInSpace = before.last == " "
        // The command's name alone, not yet ended: `SET` shows ` key value ...`.
        if words.count == named && !endsInSpace {
            return ArgumentHint.text(for: doc.arguments, after: []).map { " " + $0 }
        }
        guard words.count > named || endsInSpace else { return nil }
        guard let text = ArgumentHint.text(for: doc.arguments, after: Array(words.dropFirst(named))) else { return nil }
        return endsInSpace ? text : " " + text
    }

    /// Whether the word being typed at the end of `before` fills a key argument.
    package func isKeyPosition(_ before: String) -> Bool {
        guard let words = try? CommandLineSplitter.split(Array(before.utf8)).map({ String(decoding: $0, as: UTF8.self) }),
            let (doc, named) = doc(for: words)
        else { return false }
        var typed = Array(words.dropFirst(named))
        if before.last != " " {
            guard !typed.isEmpty else { return false }
            typed.removeLast()
        }
        return ArgumentHint.next(for: doc.arguments, after: typed)?.type == "key"
    }

    /// What TAB offers for the text before the cursor: a command name, a
    /// `CONTAINER SUBCOMMAND` pair, or a meta-command; case-insensitive.
    package func complete(_ before: String) -> Completion {
        let words = before.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let endsWithSpace = before.last == " "
        if words.count <= 1 && !endsWithSpace {
            let typed = words.first ?? ""
            if typed.hasPrefix(":") {
                return Completion(replacing: typed.count, candidates: Self.metaCommands.filter { $0.hasPrefix(typed.lowercased()) })
            }
            let first = Set(names.map { String($0.split(separator: " ")[0]) })
            return Completion(replacing: typed.count, candidates: first.filter { $0.hasPrefix(typed.uppercased()) }.sorted())
        }
        guard words.count == 2 && !endsWithSpace || words.count == 1 && endsWithSpace else {
            return Completion(replacing: 0, candidates: [])
        }
        let container = words[0].uppercased()
        let typed = words.count == 2 ? words[1].uppercased() : ""
        let candidates = names.filter { $0.hasPrefix(container + " " + typed) && $0.split(separator: " ").count == 2 }
        // The whole "container sub" text is replaced, so it comes out upper-case.
        let leading = before.prefix { $0 == " " }.count
        return Completion(replacing: before.count - leading, candidates: candidates)
    }

    /// `help <command>` text, as redis-cli lays it out.
    package func help(_ words: [String]) -> String? {
        let upper = words.map { $0.uppercased() }
        let key = upper.count > 1 && docs[upper[0] + " " + upper[1]] != nil ? upper[0] + " " + upper[1] : upper.first ?? ""
        guard let doc = docs[key] else { return nil }
        return "\n  \(doc.syntax)\n  summary: \(doc.summary)\n  since: \(doc.since)\n  group: \(doc.group)\n\n"
    }

    static let builtInNames = """
        ACL APPEND ASKING AUTH BGREWRITEAOF BGSAVE BITCOUNT BITFIELD BITFIELD_RO BITOP BITPOS BLMOVE BLMPOP BLPOP BRPOP \
        BRPOPLPUSH BZMPOP BZPOPMAX BZPOPMIN CLIENT CLUSTER COMMAND CONFIG COPY DBSIZE DEBUG DECR DECRBY DEL DISCARD DUMP \
        ECHO EVAL EVALSHA EVALSHA_RO EVAL_RO EXEC EXISTS EXPIRE EXPIREAT EXPIRETIME FAILOVER FCALL FCALL_RO FLUSHALL \
        FLUSHDB FUNCTION GEOADD GEODIST GEOHASH GEOPOS GEORADIUS GEORADIUSBYMEMBER GEOSEARCH GEOSEARCHSTORE GET GETBIT \
        GETDEL GETEX GETRANGE GETSET HDEL HELLO HEXISTS HGET HGETALL HINCRBY HINCRBYFLOAT HKEYS HLEN HMGET HMSET HRANDFIELD \
        HSCAN HSET HSETNX HSTRLEN HVALS INCR INCRBY INCRBYFLOAT INFO KEYS LASTSAVE LATENCY LCS LINDEX LINSERT LLEN LMOVE \
        LMPOP LOLWUT LPOP LPOS LPUSH LPUSHX LRANGE LREM LSET LTRIM MEMORY MGET MIGRATE MODULE MONITOR MOVE MSET MSETNX \
        MULTI OBJECT PERSIST PEXPIRE PEXPIREAT PEXPIRETIME PFADD PFCOUNT PFMERGE PING PSETEX PSUBSCRIBE PSYNC PTTL PUBLISH \
        PUBSUB PUNSUBSCRIBE QUIT RANDOMKEY READONLY READWRITE RENAME RENAMENX REPLCONF REPLICAOF RESET RESTORE ROLE RPOP \
        RPOPLPUSH RPUSH RPUSHX SADD SAVE SCAN SCARD SCRIPT SDIFF SDIFFSTORE SELECT SET SETBIT SETEX SETNX SETRANGE SHUTDOWN \
        SINTER SINTERCARD SINTERSTORE SISMEMBER SLAVEOF SLOWLOG SMEMBERS SMISMEMBER SMOVE SORT SORT_RO SPOP SPUBLISH \
        SRANDMEMBER SREM SSCAN SSUBSCRIBE STRLEN SUBSCRIBE SUBSTR SUNION SUNIONSTORE SUNSUBSCRIBE SWAPDB SYNC TIME TOUCH \
        TTL TYPE UNLINK UNSUBSCRIBE UNWATCH WAIT WATCH XACK XADD XAUTOCLAIM XCLAIM XDEL XGROUP XINFO XLEN XPENDING XRANGE \
        XREAD XREADGROUP XREVRANGE XSETID XTRIM ZADD ZCARD ZCOUNT ZDIFF ZDIFFSTORE ZINCRBY ZINTER ZINTERCARD ZINTERSTORE \
        ZLEXCOUNT ZMPOP ZMSCORE ZPOPMAX ZPOPMIN ZRANDMEMBER ZRANGE ZRANGEBYLEX ZRANGEBYSCORE ZRANGESTORE ZRANK ZREM \
        ZREMRANGEBYLEX ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREVRANGE ZREVRANGEBYLEX ZREVRANGEBYSCORE ZREVRANK ZSCAN ZSCORE \
        ZUNION ZUNIONSTORE
        """

    static let builtInSubcommands: [(String, String)] = [
        ("ACL", "CAT DELUSER DRYRUN GENPASS GETUSER LIST LOAD LOG SAVE SETUSER USERS WHOAMI"),
        ("CLIENT", "CACHING GETNAME GETREDIR ID INFO KILL LIST NO-EVICT PAUSE REPLY SETNAME TRACKING TRACKINGINFO UNBLOCK UNPAUSE"),
        ("CLUSTER", "INFO NODES MYID SLOTS SHARDS"),
        ("COMMAND", "COUNT DOCS GETKEYS GETKEYSANDFLAGS INFO LIST"),
        ("CONFIG", "GET RESETSTAT REWRITE SET"),
        ("FUNCTION", "DELETE DUMP FLUSH KILL LIST LOAD RESTORE STATS"),
        ("LATENCY", "DOCTOR GRAPH HISTOGRAM HISTORY LATEST RESET"),
        ("MEMORY", "DOCTOR MALLOC-STATS PURGE STATS USAGE"),
        ("MODULE", "LIST LOAD LOADEX UNLOAD"),
        ("OBJECT", "ENCODING FREQ IDLETIME REFCOUNT"),
        ("PUBSUB", "CHANNELS NUMPAT NUMSUB SHARDCHANNELS SHARDNUMSUB"),
        ("SCRIPT", "EXISTS FLUSH KILL LOAD"),
        ("SLOWLOG", "GET LEN RESET"),
        ("XGROUP", "CREATE CREATECONSUMER DELCONSUMER DESTROY SETID"),
        ("XINFO", "CONSUMERS GROUPS STREAM"),
    ]
}

/// The table the editor thread reads: the built-in one until COMMAND DOCS answers. The
/// built-in one is made at the first read, which a one-shot command never makes.
final class SharedCommandTable: Sendable {
    private let loaded = NIOLockedValueBox<CommandTable?>(nil)

    func replace(with table: CommandTable) {
        loaded.withLockedValue { $0 = table }
    }

    func read<Result>(_ body: (CommandTable) -> Result) -> Result {
        loaded.withLockedValue { body($0 ?? .builtIn) }
    }
}

extension String {
    var trimmingSpaces: String {
        String(decoding: Array(utf8).trimmingSpaces, as: UTF8.self)
    }
}

extension [UInt8] {
    /// Without leading and trailing spaces and tabs: for typed and pasted lines and
    /// for option values alike.
    var trimmingSpaces: ArraySlice<UInt8> {
        var start = startIndex
        var end = endIndex
        while start < end, self[start] == 32 || self[start] == 9 { start += 1 }
        while end > start, self[end - 1] == 32 || self[end - 1] == 9 { end -= 1 }
        return self[start..<end]
    }
}
