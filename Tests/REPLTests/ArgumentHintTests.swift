import NIOCore
import RESP
import Testing

@testable import REPL

/// The hint after the cursor and the key positions, from COMMAND DOCS' argument trees
/// (written here as Redis 7 describes SET, ZADD, DEL, MSET and SPOP).
@Suite struct ArgumentHintTests {
    static func token(_ token: String, optional: Bool = false) -> CommandArgument {
        CommandArgument(name: token.lowercased(), type: "pure-token", token: token, optional: optional)
    }

    static let table = CommandTable(docs: [
        "SET": doc("SET", [
            CommandArgument(name: "key", type: "key"),
            CommandArgument(name: "value", type: "string"),
            CommandArgument(name: "condition", type: "oneof", optional: true, children: [token("NX"), token("XX")]),
            token("GET", optional: true),
            CommandArgument(name: "expiration", type: "oneof", optional: true, children: [
                CommandArgument(name: "seconds", type: "integer", token: "EX"),
                CommandArgument(name: "milliseconds", type: "integer", token: "PX"),
                token("KEEPTTL"),
            ]),
        ]),
        "ZADD": doc("ZADD", [
            CommandArgument(name: "key", type: "key"),
            CommandArgument(name: "condition", type: "oneof", optional: true, children: [token("NX"), token("XX")]),
            token("CH", optional: true),
            CommandArgument(name: "data", type: "block", multiple: true, children: [
                CommandArgument(name: "score", type: "double"), CommandArgument(name: "member", type: "string"),
            ]),
        ]),
        "DEL": doc("DEL", [CommandArgument(name: "key", type: "key", multiple: true)]),
        "MSET": doc("MSET", [
            CommandArgument(name: "data", type: "block", multiple: true, children: [
                CommandArgument(name: "key", type: "key"), CommandArgument(name: "value", type: "string"),
            ])
        ]),
        "SORT": doc("SORT", [
            CommandArgument(name: "key", type: "key"),
            CommandArgument(name: "offset_count", type: "block", token: "LIMIT", optional: true, children: [
                CommandArgument(name: "offset", type: "integer"), CommandArgument(name: "count", type: "integer"),
            ]),
            CommandArgument(name: "destination", type: "key", token: "STORE", optional: true),
        ]),
        "XREAD": doc("XREAD", [
            CommandArgument(name: "count", type: "integer", token: "COUNT", optional: true),
            CommandArgument(name: "streams", type: "block", token: "STREAMS", children: [
                CommandArgument(name: "key", type: "key", multiple: true), CommandArgument(name: "id", type: "string", multiple: true),
            ]),
        ]),
        "XTRIM": doc("XTRIM", [
            CommandArgument(name: "key", type: "key"),
            CommandArgument(name: "trim", type: "block", children: [
                CommandArgument(name: "strategy", type: "oneof", children: [token("MAXLEN"), token("MINID")]),
                CommandArgument(name: "operator", type: "oneof", optional: true, children: [token("="), token("~")]),
                CommandArgument(name: "threshold", type: "string"),
                CommandArgument(name: "count", type: "integer", token: "LIMIT", optional: true),
            ]),
        ]),
        "BLPOP": doc("BLPOP", [CommandArgument(name: "key", type: "key", multiple: true), CommandArgument(name: "timeout", type: "double")]),
        "EVAL": doc("EVAL", [
            CommandArgument(name: "script", type: "string"), CommandArgument(name: "numkeys", type: "integer"),
            CommandArgument(name: "key", type: "key", optional: true, multiple: true),
            CommandArgument(name: "arg", type: "string", optional: true, multiple: true),
        ]),
        "SPOP": doc("SPOP", [CommandArgument(name: "key", type: "key"), CommandArgument(name: "count", type: "integer", optional: true)]),
    ])

    static func doc(_ name: String, _ arguments: [CommandArgument]) -> CommandDoc {
        CommandDoc(name: name, summary: "", since: "", group: "", syntax: "", arguments: arguments)
    }

    @Test func theHintShortensAsArgumentsAreTyped() {
        let table = Self.table
        #expect(table.hint("SET") == " key value [NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL]")
        #expect(table.hint("SET k ") == "value [NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL]")
        #expect(table.hint("set k v") == " [NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL]")
        #expect(table.hint("SET k v EX ") == "seconds [NX|XX] [GET]")
        #expect(table.hint("SET k v ex 10 NX ") == "[GET]")
        #expect(table.hint("SET k v EX 10 NX GET ") == nil, "nothing left")
        #expect(table.hint("SET k v BOGUS ") == nil, "a word the syntax has no place for")
        // The flags come before the scores: once a score is given they can no longer come.
        #expect(table.hint("ZADD z NX 1 ") == "member [score member ...]")
        #expect(table.hint("ZADD z 1 m CH ") == "member [score member ...]", "CH is a score there, as Redis reads it")
        #expect(table.hint("DEL a b ") == "[key ...]")
        #expect(table.hint("SPOP s ") == "[count]")
        #expect(table.hint("SE") == nil && table.hint("NOSUCH ") == nil)
        #expect(table.hint("SET \"a b") == nil, "an open quote")
        // Tokens that start a block or a oneof.
        #expect(table.hint("SORT k ") == "[LIMIT offset count] [STORE destination]")
        #expect(table.hint("SORT k LIMIT ") == "offset count [STORE destination]")
        #expect(table.hint("SORT k LIMIT 0 10 STORE ") == "destination")
        #expect(table.hint("XREAD COUNT 2 STREAMS s1 ") == "[key ...] id [id ...]")
        // Optional parts inside a started argument may be left out.
        #expect(table.hint("XTRIM k MAXLEN ~ ") == "threshold [LIMIT count]")
        #expect(table.hint("XTRIM k MAXLEN 1000 ") == "[LIMIT count]")
        #expect(table.hint("BLPOP k1 k2 ") == "[key ...] timeout")
    }

    @Test func keyPositionsComeFromTheSyntax() {
        let table = Self.table
        #expect(table.isKeyPosition("GET ") == false, "no docs for GET here")
        #expect(table.isKeyPosition("SET ") && table.isKeyPosition("SET us"))
        #expect(!table.isKeyPosition("SET k ") && !table.isKeyPosition("SET k v "))
        #expect(table.isKeyPosition("DEL a ") && table.isKeyPosition("DEL a b"))
        #expect(!table.isKeyPosition("MSET k ") && table.isKeyPosition("MSET k v "))
        #expect(!table.isKeyPosition("SPOP s "))
        #expect(table.isKeyPosition("XREAD STREAMS ") && table.isKeyPosition("XREAD COUNT 1 STREAMS a "))
        #expect(table.isKeyPosition("SORT k LIMIT 0 1 STORE "))
        #expect(table.isKeyPosition("BLPOP k1 "), "more keys before the timeout")
        #expect(table.isKeyPosition("EVAL s 2 k1 ") && !table.isKeyPosition("EVAL s 1 k1 ") && !table.isKeyPosition("EVAL s 0 "))
        #expect(!table.isKeyPosition("SET"), "still the command's name")
    }

    @Test func candidatesAreListedInColumnsDownThenAcross() {
        let words = ["user:999"] + (0...9).map { "user:999\($0)" }
        // Cells of 9 + 2: three fit in 40, so four rows, filled down then across.
        #expect(LineEditor.columns(words, width: 40) == """
            user:999   user:9993  user:9997
            user:9990  user:9994  user:9998
            user:9991  user:9995  user:9999
            user:9992  user:9996

            """)
        #expect(LineEditor.columns(["a", "bb"], width: 3) == "a\nbb\n", "one column when none fits")
        #expect(LineEditor.commonPrefix(["User:1", "user:2"], caseSensitive: true) == "")
        #expect(LineEditor.commonPrefix(["GET", "getex"]) == "GET")
    }

    @Test func recentKeysAreBoundedAndMatchedByPrefix() {
        var recent = RecentKeys(capacity: 3)
        recent.add([Array("user:1".utf8), Array("user:2".utf8), Array("other".utf8), Array("user:1".utf8)])
        recent.add([Array("user:3".utf8)])
        #expect(recent.keys(startingWith: Array("user:".utf8)) == [Array("user:2".utf8), Array("user:3".utf8)])
        #expect(KeyCompleter.pattern(Array("a*b?[c]\\".utf8)) == Array("a\\*b\\?\\[c\\]\\\\*".utf8))
    }

    @Test func keysFromRepliesAreKeptPerDatabaseAndForgottenAfterAFlush() {
        let completer = KeyCompleter()
        func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }
        completer.noteReply(.array([bulk("user:1"), bulk("user:2")]), to: RESPCommand("KEYS", "user:*"))
        completer.noteReply(.array([bulk("0"), .array([bulk("user:3")])]), to: RESPCommand("SCAN", "0"))
        completer.database.withLockedValue { $0 = 3 }
        completer.noteReply(bulk("user:9"), to: RESPCommand("RANDOMKEY"))
        completer.noteReply(.array([bulk("user:8")]), to: RESPCommand("SMEMBERS", "s"))
        let prefix = Array("user:".utf8)
        #expect(completer.recentKeys(startingWith: prefix) == [Array("user:9".utf8)], "db 3's own; SMEMBERS lists members, not keys")
        completer.database.withLockedValue { $0 = 0 }
        #expect(completer.recentKeys(startingWith: prefix).map { String(decoding: $0, as: UTF8.self) } == ["user:1", "user:2", "user:3"])
        completer.noteReply(.simpleString(ByteBuffer(string: "OK")), to: RESPCommand("FLUSHDB"))
        #expect(completer.recentKeys(startingWith: prefix).isEmpty)
    }
}
