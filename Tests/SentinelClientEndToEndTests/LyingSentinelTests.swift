import Foundation
import NIOConcurrencyHelpers
import NIOCore
import RESP
import TestTopology
import Testing

@testable import SentinelClient

/// A sentinel that publishes a false `+switch-master` naming a replica: ROLE on that
/// replica says it is not a master, so the client keeps the real one.
@Suite(.serialized, .timeLimit(.minutes(2 * testSlowdown)))
struct LyingSentinelTests {
    @Test func aFalseSwitchMasterIsIgnoredAfterROLE() async throws {
        try await withTopology { topology in
            let master = topology.masterPort, replica = topology.replicaPorts[0]
            let bulk = FakeServer.bulk
            let lied = NIOLockedValueBox(false)
            let liar = try await FakeServer(answer: { words in
                switch (words.first?.uppercased(), words.dropFirst().first?.lowercased()) {
                case ("SENTINEL", "get-master-addr-by-name"): return "*2\r\n" + bulk("127.0.0.1") + bulk(String(master))
                case ("SUBSCRIBE", _):
                    lied.withLockedValue { $0 = true }
                    let lie = "\(topology.masterName) 127.0.0.1 \(master) 127.0.0.1 \(replica)"
                    return "*3\r\n" + bulk("subscribe") + bulk("+switch-master") + ":1\r\n"
                        + FakeServer.message("+switch-master", lie)
                case ("SENTINEL", _): return "*0\r\n"
                default: return "+OK\r\n"
                }
            })
            let client = makeClient(topology.configuration(sentinels: [liar.address] + topology.sentinelAddresses))
            let events = EventRecorder()
            let watching = Task { for await event in client.topologyEvents() { await events.append(event) } }
            defer { watching.cancel() }
            try await running(client) {
                _ = try await client.verifiedMaster()
                // The lie goes out with the subscription; give the client time to act on it.
                #expect(await eventually(within: 5) { lied.withLockedValue { $0 } }, "the client subscribed to the liar")
                try await Task.sleep(nanoseconds: 1_500_000_000)
                #expect(await client.master?.address.port == master, "the real master is kept")
                let seen = await events.events
                #expect(!seen.contains { if case .masterSwitched(.some, _) = $0 { true } else { false } }, "no switch: \(seen)")
                _ = try await client.execute(RESPCommand("SET", "after-the-lie", "1"))
                #expect(try topology.cli(master, "GET", "after-the-lie") == "1\n", "writes still go to the real master")
            }
            await liar.stop()
        }
    }
}
