import NIOCore
import RESP
import Testing

@testable import REPL

/// Which lines ask first at the prompt, and the question as a person reads it.
@Suite struct DangerousCommandsTests {
    private func words(_ line: String) -> RESPCommand { RESPCommand(strings: line.split(separator: " ").map(String.init)) }

    /// One `COMMAND` entry: name, arity, flags, keys, categories, tips, key specs, subcommands.
    private func entry(_ name: String, _ categories: [String], subcommands: [RESPValue] = []) -> RESPValue {
        func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }
        return .array([
            bulk(name), .integer(-1), .array([]), .integer(0), .integer(0), .integer(0),
            .array(categories.map { .simpleString(ByteBuffer(string: $0)) }), .array([]), .array([]), .array(subcommands),
        ])
    }

    @Test func theServerMarksDangerousWritesAndOurListAddsTheDeploymentCommands() throws {
        let reply = RESPValue.array([
            entry("flushdb", ["@keyspace", "@write", "@slow", "@dangerous"]),
            entry("sort", ["@write", "@set", "@slow", "@dangerous"]),
            entry("info", ["@slow", "@dangerous"]),
            entry("config", ["@slow"], subcommands: [entry("config|get", ["@admin", "@dangerous"]), entry("config|set", ["@admin", "@dangerous"])]),
            entry("newflush", ["@write", "@dangerous"]),
        ])
        let guarded = try #require(DangerousCommands(commandReply: reply))
        #expect(guarded.serverMarked == ["FLUSHDB", "NEWFLUSH"], "SORT writes one key, with STORE only; INFO and CONFIG GET only read")
        #expect(guarded.danger(of: words("flushdb")) == .destroys(name: "FLUSHDB", source: .server, scope: .database))
        #expect(guarded.danger(of: words("NEWFLUSH x")) == .destroys(name: "NEWFLUSH", source: .server, scope: .database))
        #expect(guarded.danger(of: words("config set maxmemory 1")) == .destroys(name: "CONFIG SET", source: .ours, scope: .database))
        #expect(guarded.danger(of: words("CONFIG GET maxmemory")) == nil)
        #expect(guarded.danger(of: words("INFO")) == nil && guarded.danger(of: words("SORT k")) == nil)
        #expect(guarded.danger(of: words("FLUSHALL")) == nil, "this server does not mark FLUSHALL: only our list and its marks count")
        #expect(DangerousCommands(commandReply: .array([entry("get", [])])) == nil, "no categories: a server before Redis 7")
    }

    @Test func withoutTheServerRedis70sMarksApply() {
        let guarded = DangerousCommands()
        #expect(guarded.danger(of: words("FLUSHALL ASYNC")) == .destroys(name: "FLUSHALL", source: .server, scope: .everyDatabase))
        for line in ["SHUTDOWN NOSAVE", "replicaof no one", "SCRIPT FLUSH", "FUNCTION FLUSH", "ACL DELUSER bob", "SWAPDB 0 1", "DEBUG SLEEP 0", "SENTINEL FAILOVER m"] {
            #expect(guarded.danger(of: words(line)) != nil, "\(line)")
        }
        for line in ["GET k", "SET k v", "DEL k", "SCRIPT LOAD x", "ACL WHOAMI", "CLIENT LIST", "SCAN 0"] {
            #expect(guarded.danger(of: words(line)) == nil, "\(line)")
        }
    }

    @Test func wholeKeyspaceAndWholeKeyReadsAreSizedFirst() {
        let guarded = DangerousCommands()
        #expect(guarded.danger(of: words("KEYS *")) == .readsDatabase(name: "KEYS"))
        #expect(guarded.danger(of: words("SMEMBERS s")) == .readsKey(name: "SMEMBERS", key: Array("s".utf8), sizeCommand: "SCARD"))
        #expect(guarded.danger(of: words("LRANGE l 0 -1")) == .readsKey(name: "LRANGE", key: Array("l".utf8), sizeCommand: "LLEN"))
        #expect(guarded.danger(of: words("LRANGE l 0 9")) == nil, "a range, not the whole key")
        #expect(guarded.danger(of: words("HGETALL")) == nil, "no key: the server says what is wrong")
    }

    @Test func oneLineAsksWithItsTargetAndAPasteAsksOnceForAllItsLines() {
        let flush = DangerQuestion.Found(
            line: 1, danger: .destroys(name: "FLUSHALL", source: .server, scope: .everyDatabase), context: "every database, 1,204,332 keys")
        let one = DangerQuestion(found: [flush], lineCount: 1, target: "mymaster@10.0.0.5:6379")
        #expect(one.heading == nil)
        #expect(one.prompt == "FLUSHALL on mymaster@10.0.0.5:6379 (every database, 1,204,332 keys): type yes to run: ")
        #expect(one.declined == "-- not run: FLUSHALL\n")

        var second = flush
        second.line = 2
        second.danger = .destroys(name: "FLUSHDB", source: .server, scope: .database)
        second.context = "db 0, 2 keys"
        let paste = DangerQuestion(found: [second], lineCount: 3, target: "mymaster@127.0.0.1:6379")
        #expect(paste.heading == "-- these 3 lines hold FLUSHDB (line 2): none of them runs unless you answer yes")
        #expect(paste.prompt == "FLUSHDB on mymaster@127.0.0.1:6379 (db 0, 2 keys): type yes to run all 3 lines: ")
        #expect(paste.declined == "-- not run: all 3 lines\n")
        #expect(DangerQuestion.isYes(" YES ") && !DangerQuestion.isYes("y") && !DangerQuestion.isYes(""))
    }

    @Test func keysAreCountedFromInfoKeyspace() {
        let info = "# Keyspace\r\ndb0:keys=1204332,expires=3,avg_ttl=0\r\ndb9:keys=2,expires=0,avg_ttl=0\r\n"
        #expect(KeyspaceCount.keys(inInfo: info) == [0: 1_204_332, 9: 2])
        #expect(KeyspaceCount.keys(inInfo: "# Keyspace\r\n").isEmpty)
        #expect(1_204_332.grouped == "1,204,332" && 0.grouped == "0" && 999.grouped == "999" && 1000.grouped == "1,000")
    }
}
