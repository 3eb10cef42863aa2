import Foundation
import NIOConcurrencyHelpers
import NIOCore
import RESP
import TestTopology
import Testing

@testable import SentinelClient

/// A client one failover behind: a sentinel reports a failover of a master the client has
/// not switched to yet. Once the client switches to that master, its commands are held
/// from the switch on and go to the replica chosen to replace it, never to the master
/// being replaced. The sentinel is a fake that names the masters; the servers are real,
/// their roles set by REPLICAOF (the topology's sentinels reconvert them only after 8 s).
@Suite(.serialized, .timeLimit(.minutes(2 * testSlowdown)))
struct LaggingFailoverTests {
    @Test func aFailoverOfTheNextMasterHoldsCommandsFromTheSwitchToIt() async throws {
        try await withTopology { topology in
            let first = topology.masterPort, next = topology.replicaPorts[0], candidate = topology.replicaPorts[1]
            _ = try topology.cli(next, "REPLICAOF", "NO", "ONE")
            let sentinel = try await FakeServer(answer: laggingSentinel(topology.masterName, first, next, candidate))
            let client = makeClient(topology.configuration(sentinels: [sentinel.address]))
            let events = EventRecorder()
            let watching = Task { for await event in client.topologyEvents() { await events.append(event) } }
            defer { watching.cancel() }
            try await running(client) {
                _ = try await client.verifiedMaster()
                #expect(
                    await eventually(within: 10 * Double(testSlowdown)) { await client.master?.address.port == next },
                    "the client switched to the next master")
                let held = Task { try await client.execute(RESPCommand("SET", "lagging", "1")) }
                try await Task.sleep(nanoseconds: 500_000_000)
                #expect(try topology.cli(next, "EXISTS", "lagging") == "0\n", "nothing reached the master being replaced")
                _ = try topology.cli(candidate, "REPLICAOF", "NO", "ONE")
                _ = try await held.value
                #expect(await client.master?.address.port == candidate)
                #expect(try topology.cli(candidate, "GET", "lagging") == "1\n", "the held command ran on the promoted replica")
                #expect(try topology.cli(next, "EXISTS", "lagging") == "0\n")
                let seen = await events.events
                #expect(
                    seen.contains {
                        if case .masterSwitched(let from, let to) = $0 { from?.port == first && to.port == next } else { false }
                    }, "switched from \(first) to \(next): \(seen)")
                #expect(
                    seen.contains {
                        if case .commandsHeld(let held, let replacing) = $0 { held.port == candidate && replacing.port == next }
                        else { false }
                    }, "held for \(candidate) replacing \(next): \(seen)")
            }
            await sentinel.stop()
        }
    }

    /// Names `first` until it has done so once and the client has subscribed, then `next`.
    /// The subscription brings a failover of `next` to `candidate`, which the client has
    /// not switched to yet, and the switch from `first` to `next`.
    private func laggingSentinel(_ name: String, _ first: Int, _ next: Int, _ candidate: Int)
        -> @Sendable ([String]) -> String
    {
        let state = NIOLockedValueBox((namedFirst: false, subscribed: false))
        let bulk = FakeServer.bulk, message = FakeServer.message
        return { words in
            switch (words.first?.uppercased(), words.dropFirst().first?.lowercased()) {
            case ("SENTINEL", "get-master-addr-by-name"):
                let port = state.withLockedValue { state in
                    defer { state.namedFirst = true }
                    return state.namedFirst && state.subscribed ? next : first
                }
                return "*2\r\n" + bulk("127.0.0.1") + bulk(String(port))
            case ("SUBSCRIBE", _):
                state.withLockedValue { $0.subscribed = true }
                return "*3\r\n" + bulk("subscribe") + bulk("+switch-master") + ":1\r\n"
                    + message("+selected-slave", "slave 127.0.0.1:\(candidate) 127.0.0.1 \(candidate) @ \(name) 127.0.0.1 \(next)")
                    + message("+switch-master", "\(name) 127.0.0.1 \(first) 127.0.0.1 \(next)")
            case ("SENTINEL", _): return "*0\r\n"
            default: return "+OK\r\n"
            }
        }
    }
}
