import Foundation
import TestTopology
import Testing

/// The slips a new user makes: a data node, a Cluster node or a web server given as a
/// sentinel, a master name the sentinels do not monitor, a URL of another kind. Each
/// gets one line that names what the address is and what to give instead, tries
/// nothing further, and exits 1 (2 for a URL: a usage error).
@Suite(.serialized, .timeLimit(.minutes(3 * testSlowdown)))
struct WrongServerTests {
    private func ask(_ sentinel: String, _ masterName: String = "mymaster") throws -> Topology.RunResult {
        try Topology.run(sentinelREPLExecutable, ["-s", sentinel, masterName, "PING"])
    }

    private func expectOneLine(_ result: Topology.RunResult, status: Int32, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status && result.stdout.isEmpty, "\(result)", sourceLocation: sourceLocation)
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(!result.stderr.contains("retry"), "a retry cannot help: \(result.stderr)", sourceLocation: sourceLocation)
    }

    @Test func aDataNodeGivenAsASentinelIsNamedWithTheSentinelPort() async throws {
        try await withTopology { topology in
            let result = try ask("127.0.0.1:\(topology.masterPort)")
            expectOneLine(result, status: 1)
            let product = Topology.server == "valkey" ? "Valkey" : "Redis"
            #expect(result.stderr.contains("127.0.0.1:\(topology.masterPort) is a \(product) "), "\(result.stderr)")
            #expect(result.stderr.contains("not a sentinel") && result.stderr.contains("26379"), "\(result.stderr)")
            #expect(!result.stderr.contains("unknown command"), "\(result.stderr)")
            // Beside a sentinel that does not answer, the data node is still what is named.
            let mixed = try ask("127.0.0.1:\(topology.masterPort),127.0.0.1:1")
            expectOneLine(mixed, status: 1)
            #expect(mixed.stderr.contains("not a sentinel") && mixed.stderr.contains("127.0.0.1:1: connection refused"), "\(mixed.stderr)")
        }
    }

    @Test func aClusterNodeIsSentToAClusterClient() async throws {
        try await withTopology { topology in
            let node = try topology.startLoneClusterNode()
            let result = try ask("127.0.0.1:\(node.port)")
            expectOneLine(result, status: 1)
            #expect(result.stderr.contains("is a Cluster node") && result.stderr.contains("redis-cli -c"), "\(result.stderr)")
        }
    }

    @Test func aServiceThatDoesNotSpeakRESPIsNamedAsSuch() throws {
        let web = try HTTPResponder()
        defer { web.stop() }
        let result = try ask("127.0.0.1:\(web.port)")
        expectOneLine(result, status: 1)
        #expect(result.stderr.contains("does not speak RESP") && result.stderr.contains("HTTP"), "\(result.stderr)")
        #expect(!result.stderr.contains("malformed"), "\(result.stderr)")
    }

    @Test func anUnknownMasterNameListsTheNamesTheSentinelsMonitor() async throws {
        try await withTopology { topology in
            let result = try topology.runREPL(["no-such-master", "PING"])
            expectOneLine(result, status: 1)
            #expect(result.stderr.contains("no sentinel knows a master named 'no-such-master'"), "\(result.stderr)")
            #expect(result.stderr.contains("The sentinels monitor: '\(topology.masterName)'."), "\(result.stderr)")
        }
    }

    @Test func aURLOfAnotherKindIsRefusedWithTheSameAddressAsASentinelURL() throws {
        let positional = try Topology.run(sentinelREPLExecutable, ["redis://127.0.0.1:26379/mymaster", "PING"])
        expectOneLine(positional, status: 2)
        #expect(positional.stderr.contains("redis+sentinel://127.0.0.1:26379/mymaster"), "\(positional.stderr)")
        let secret = "s3cr3t-\(UInt32.random(in: 0...UInt32.max))"
        let flag = try Topology.run(sentinelREPLExecutable, ["-u", "rediss://app:\(secret)@127.0.0.1:6379/0", "PING"])
        expectOneLine(flag, status: 2)
        #expect(flag.stderr.contains("rediss+sentinel://app:***@127.0.0.1:6379/MASTER-NAME/0"), "\(flag.stderr)")
        #expect(!flag.stderr.contains(secret), "the password is never repeated")
        let dashed = try Topology.run(sentinelREPLExecutable, ["redis-sentinel://127.0.0.1:26379/mymaster"])
        expectOneLine(dashed, status: 2)
        #expect(dashed.stderr.contains("redis+sentinel://127.0.0.1:26379/mymaster"), "\(dashed.stderr)")
    }
}
