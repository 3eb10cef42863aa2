import NIOCore
import RESP
import TestTopology
import Testing

@testable import SentinelClient

/// A fake master (behind a fake sentinel that names it) answering with what no real
/// server sends: each gives a clear error, no crash, no hang, no unbounded allocation,
/// and the client's next command works on a new connection.
@Suite(.serialized, .timeLimit(.minutes(2 * testSlowdown)))
struct MalformedServerTests {
    static let cases: [(name: String, bytes: String, closes: Bool, code: SentinelClientError.Code)] = [
        ("huge-bulk", "$99999999999\r\n", false, .malformedReply),
        ("negative-count", "*-5\r\n", false, .malformedReply),
        ("bad-integer", ":12x\r\n", false, .malformedReply),
        ("unknown-type", "?what\r\n", false, .malformedReply),
        ("bad-double", ",fast\r\n", false, .malformedReply),
        ("depth-bomb", String(repeating: "*1\r\n", count: RESPDecoder.defaultMaxDepth + 1), false, .malformedReply),
        ("truncated-bulk", "$10\r\nabc", true, .commandInDoubt),
        ("truncated-array", "*3\r\n:1\r\n", true, .commandInDoubt),
        // A connection reset in the middle of a large reply.
        ("half-a-large-bulk", "$1000000\r\n" + String(repeating: "x", count: 500_000), true, .commandInDoubt),
    ]

    @Test func eachMalformedReplyIsAClearErrorAndTheNextCommandWorks() async throws {
        let master = try await FakeServer(
            answer: { words in
                switch words.first?.uppercased() {
                case "ROLE": return "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"
                case "PING": return "+PONG\r\n"
                case "GET": return Self.cases.first { $0.name == words.last }?.bytes ?? "$-1\r\n"
                default: return "+OK\r\n"
                }
            },
            closeAfter: { words in words.first?.uppercased() == "GET" && Self.cases.first { $0.name == words.last }?.closes == true })
        let masterAddress = master.address
        let sentinel = try await FakeServer(answer: { words in
            if words.count > 1, words[1].lowercased() == "get-master-addr-by-name" {
                return "*2\r\n$\(masterAddress.host.utf8.count)\r\n\(masterAddress.host)\r\n$\(String(masterAddress.port).count)\r\n\(masterAddress.port)\r\n"
            }
            return "*0\r\n"
        })
        var configuration = SentinelClientConfiguration(sentinels: [sentinel.address], masterName: "fake")
        configuration.followFailovers = false
        configuration.sentinelTryTimeout = .seconds(2)  // fakes on a loaded machine
        let client = makeClient(configuration)
        try await running(client) {
            _ = try await client.verifiedMaster()
            for fault in Self.cases {
                do throws(SentinelClientError) {
                    let reply = try await client.execute(RESPCommand("GET", fault.name))
                    Issue.record("\(fault.name): a reply instead of an error: \(reply)")
                } catch {
                    #expect(error.code == fault.code, "\(fault.name): \(error)")
                    #expect(error.description.contains(masterAddress.description), "names the server: \(error)")
                }
                #expect(try await client.execute(RESPCommand("PING")).string == "PONG", "after \(fault.name)")
            }
        }
        await sentinel.stop()
        await master.stop()
    }
    /// Terminal escapes in what sentinels send (an error reply, a host name) reach the
    /// error's description escaped: printing it cannot clear a screen or retitle a window.
    @Test func serverTextInAnErrorIsEscaped() async throws {
        let erring = try await FakeServer(answer: { _ in "-ERR \u{1B}[2J\u{1B}[31mred\r\n" })
        let host = "\u{1B}]0;pwned\u{7}x"
        let naming = try await FakeServer(answer: { words in
            guard words.count > 1, words[1].lowercased() == "get-master-addr-by-name" else { return "*0\r\n" }
            return "*2\r\n$\(host.utf8.count)\r\n\(host)\r\n$4\r\n6399\r\n"
        })
        var configuration = SentinelClientConfiguration(sentinels: [erring.address, naming.address], masterName: "fake")
        configuration.followFailovers = false
        let client = makeClient(configuration)
        try await running(client) {
            do throws(SentinelClientError) {
                let master = try await client.verifiedMaster()
                Issue.record("a master from sentinels that name none: \(master)")
            } catch {
                let text = error.description
                #expect(!text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "no raw control character: \(text)")
                #expect(text.contains("\\u{1B}[2J\\u{1B}[31mred"), "the error reply, escaped: \(text)")
                #expect(text.contains("\\u{1B}]0;pwned\\u{7}x:6399"), "the host, escaped: \(text)")
                #expect(error.attempts.contains { $0.namedMaster?.host == host }, "the address itself is kept as sent")
            }
        }
        await erring.stop()
        await naming.stop()
    }
}
