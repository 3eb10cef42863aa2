import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RESP
import TestTopology
import Testing

@testable import SentinelClient

/// Against real redis-server and redis-sentinel processes on 127.0.0.1.
@Suite(.serialized, .timeLimit(.minutes(3 * testSlowdown)))
struct SentinelClientIntegrationTests {
    // Acceptance 1
    @Test func discoveryPassesADeadFirstSentinel() async throws {
        try await withTopology { topology in
            let dead = ServerAddress(host: "127.0.0.1", port: 1)
            let client = makeClient(
                topology.configuration(sentinels: [dead] + topology.sentinelAddresses, reconcileInterval: .seconds(60)))
            try await running(client) {
                _ = try await client.verifiedMaster()
                let master = await client.master
                let attempts = await client.lastDiscoveryAttempts
                #expect(master?.address.port == topology.masterPort)
                #expect(attempts == [DiscoveryAttempt(sentinel: dead, reason: .connectionRefused)])
            }
        }
    }

    @Test func discoveryPassesAHungFirstSentinelWithinOneTry() async throws {
        try await withTopology { topology in
            let hung = topology.sentinelPorts[0]
            let pid = try #require(topology.pid(ofPort: hung))
            kill(pid, SIGSTOP)
            defer { kill(pid, SIGCONT) }
            var configuration = topology.configuration(reconcileInterval: .seconds(60))
            configuration.sentinelTryTimeout = .milliseconds(400)
            configuration.commandTimeout = .seconds(60)
            let client = makeClient(configuration)
            let started = Date()
            let (elapsed, master, attempts) = try await running(client) {
                _ = try await client.verifiedMaster()
                return (Date().timeIntervalSince(started), await client.master, await client.lastDiscoveryAttempts)
            }
            #expect(master?.address.port == topology.masterPort)
            #expect(attempts.map(\.reason) == [.timedOut(milliseconds: 400)])
            #expect(attempts.first?.sentinel.port == hung)
            // One try's timeout, not the 60 s command timeout: generous slack for a loaded machine.
            #expect(elapsed < 3, "discovery took \(elapsed) s")
            print("discovery past a hung sentinel took \(Int(elapsed * 1000)) ms (one try: 400 ms)")
        }
    }

    // Acceptance 2
    @Test func unknownMasterNameIsItsOwnError() async throws {
        try await withTopology { topology in
            var configuration = topology.configuration()
            configuration.masterName = "no-such-master"
            let client = makeClient(configuration)
            try await running(client) {
                await #expect {
                    _ = try await client.verifiedMaster()
                } throws: { error in
                    guard let error = error as? SentinelClientError, error.code == .unknownMasterName else { return false }
                    return error.attempts.count == 3
                        && "\(error)".contains("no sentinel knows a master named 'no-such-master'")
                }
            }
        }
    }

    @Test func noReachableSentinelNamesEveryAddressTried() async throws {
        let addresses = [ServerAddress(host: "127.0.0.1", port: 1), ServerAddress(host: "127.0.0.1", port: 2)]
        let client = makeClient(SentinelClientConfiguration(sentinels: addresses, masterName: "m"))
        try await running(client) {
            await #expect {
                _ = try await client.verifiedMaster()
            } throws: { error in
                guard let error = error as? SentinelClientError, error.code == .noSentinelReachable else { return false }
                return "\(error)".contains("127.0.0.1:1: connection refused") && "\(error)".contains("127.0.0.1:2: connection refused")
            }
        }
    }

    @Test func aWrongSentinelPasswordIsItsOwnError() async throws {
        var options = Topology.Options()
        options.sentinelPassword = "sentinel-secret"
        options.dataPassword = "data-secret"
        try await withTopology(options) { topology in
            var configuration = topology.configuration()
            configuration.sentinelCredentials = Credentials(password: "wrong")
            let client = makeClient(configuration)
            try await running(client) {
                await #expect {
                    _ = try await client.verifiedMaster()
                } throws: { error in
                    guard let error = error as? SentinelClientError, error.code == .sentinelAuthenticationFailed else {
                        return false
                    }
                    return "\(error)".contains("WRONGPASS")
                }
            }
            // The right passwords work, on both sentinels and data nodes.
            let good = makeClient(topology.configuration())
            let reply = try await running(good) {
                _ = try await good.verifiedMaster()
                return try await good.execute(RESPCommand("PING"))
            }
            #expect(reply.string == "PONG")
        }
    }

    /// A first discovery that fails does not end the client: it keeps asking, and
    /// serves commands once a sentinel names a master (a failed start() used to
    /// leave the client unusable: a second start() threw "shut down").
    @Test func aFailedFirstDiscoveryRecoversWhenASentinelAnswers() async throws {
        try await withTopology { topology in
            let master = topology.masterPort
            let asked = NIOLockedValueBox(0)
            let late = try await FakeServer { words in
                switch words.map({ $0.lowercased() }).prefix(2) {
                case ["sentinel", "get-master-addr-by-name"]:
                    let count = asked.withLockedValue { count in
                        count += 1
                        return count
                    }
                    return count <= 2 ? "*-1\r\n" : "*2\r\n$9\r\n127.0.0.1\r\n$\(String(master).count)\r\n\(master)\r\n"
                case ["sentinel", "sentinels"]: return "*0\r\n"
                default: return "+OK\r\n"
                }
            }
            var configuration = topology.configuration(sentinels: [late.address])
            configuration.unreachableRetryInterval = .milliseconds(100)
            let client = makeClient(configuration)
            let reply = try await running(client) {
                await #expect {
                    _ = try await client.verifiedMaster()
                } throws: { error in
                    (error as? SentinelClientError)?.code == .unknownMasterName
                }
                #expect(await eventually(within: 10) { await client.master?.address.port == master })
                return try await client.execute(RESPCommand("PING"))
            }
            await late.stop()
            #expect(reply.string == "PONG")
        }
    }

    /// withConnection gives the connection back on a throw, closed (its state is unknown).
    @Test func withConnectionReturnsTheLeaseWhenTheBodyThrows() async throws {
        struct Oops: Error {}
        try await withTopology { topology in
            let client = makeClient(topology.configuration())
            try await running(client) {
                _ = try await client.verifiedMaster()
                let pong = try await client.withConnection { try await $0.send(RESPCommand("PING")) }
                #expect(pong.string == "PONG")
                await #expect(throws: Oops.self) {
                    try await client.withConnection { _ in throw Oops() }
                }
                let pool = await client.poolSnapshot
                #expect(pool.leased == 0)
                #expect(pool.closedTotal == 1, "the connection the body threw on is not reused")
            }
        }
    }

    // Acceptance 3
    @Test func aSentinelNamingAReplicaIsRejectedByROLE() async throws {
        try await withTopology { topology in
            let replica = topology.replicaPorts[0]
            let liar = try await FakeServer { words in
                switch words.map({ $0.lowercased() }).prefix(2) {
                case ["sentinel", "get-master-addr-by-name"]:
                    return "*2\r\n$9\r\n127.0.0.1\r\n$\(String(replica).count)\r\n\(replica)\r\n"
                case ["sentinel", "sentinels"]: return "*0\r\n"
                default: return "+OK\r\n"
                }
            }
            let client = makeClient(
                topology.configuration(sentinels: [liar.address] + topology.sentinelAddresses, reconcileInterval: .seconds(60)))
            let (master, attempts, sentinels) = try await running(client) {
                _ = try await client.verifiedMaster()
                return (await client.master, await client.lastDiscoveryAttempts, await client.knownSentinels)
            }
            await liar.stop()
            #expect(master?.address.port == topology.masterPort)
            #expect(attempts.count == 1)
            #expect(attempts.first?.namedMaster?.port == replica)
            if case .notAMaster(let role) = attempts.first?.reason {
                #expect(role == "replica of 127.0.0.1:\(topology.masterPort)")
            } else {
                Issue.record("expected notAMaster, got \(String(describing: attempts.first))")
            }
            #expect(sentinels.first?.address != liar.address, "the answering sentinel moved to the front")
        }
    }

    @Test func aMalformedReplyIsATypedErrorAndTheConnectionIsDropped() async throws {
        try await withTopology { topology in
            let fake = try await FakeServer { words in
                words.first?.uppercased() == "GET" ? "$3\r\nabcXY" : "+OK\r\n"
            }
            let connection = try await RedisConnection.connect(
                to: fake.address, on: MultiThreadedEventLoopGroup.singleton, handshake: HandshakeSettings(),
                connectTimeout: .seconds(1), commandTimeout: .seconds(1))
            await #expect {
                _ = try await connection.send(RESPCommand("GET", "k"))
            } throws: { error in
                guard let error = error as? SentinelClientError, error.code == .malformedReply,
                    case .malformedReply(let description) = error.reason
                else { return false }
                return description.contains("missing CRLF")
            }
            await connection.waitUntilClosed()
            #expect(!connection.isActive)
            await fake.stop()
        }
    }

    // Acceptance 4
    @Test func followsSentinelFailoverWithoutRunningACommandTwice() async throws {
        try await withTopology { topology in
            let client = makeClient(topology.configuration())
            let outcomes = Outcomes()
            let (ackedAtSwitch, newMaster, failovers) = try await running(client) {
                _ = try await client.verifiedMaster()
                let writer = Task {
                    while await !outcomes.stopped {
                        let result: Result<RESPValue, Error>
                        do { result = .success(try await client.execute(RESPCommand("INCR", "counter"))) } catch {
                            result = .failure(error)
                        }
                        await outcomes.record(result)
                    }
                }
                #expect(await eventually(within: 10) { await outcomes.acknowledged >= 100 }, "writes are under way")
                try topology.cli(topology.sentinelPorts[1], "SENTINEL", "FAILOVER", topology.masterName)
                let switched = await eventually(within: 30) {
                    await client.master.map { $0.address.port != topology.masterPort } ?? false
                }
                #expect(switched)
                let ackedAtSwitch = await outcomes.acknowledged
                #expect(await eventually(within: 10) { await outcomes.acknowledged >= ackedAtSwitch + 100 }, "writes go on after the switch")
                await outcomes.stop()
                _ = await writer.value
                return (ackedAtSwitch, try #require(await client.master?.address.port), await client.failoversFollowed)
            }

            let acknowledged = await outcomes.acknowledged
            let inDoubt = await outcomes.inDoubt
            let other = await outcomes.other
            let counter = try #require(Int(topology.cli(newMaster, "GET", "counter").trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(try topology.currentMasterPort() == newMaster || topology.cli(newMaster, "ROLE").hasPrefix("master"))
            #expect(failovers == 1)
            #expect(acknowledged > ackedAtSwitch, "INCRs ran on the new master")
            #expect(counter <= acknowledged + inDoubt, "counter \(counter), acknowledged \(acknowledged), in doubt \(inDoubt)")
            #expect(other.isEmpty, "unexpected outcomes: \(other)")
            for port in topology.dataPorts {
                print("port \(port): \(try topology.cli(port, "ROLE").split(separator: "\n").prefix(3).joined(separator: " ")) counter=\(try topology.cli(port, "GET", "counter"))")
            }
            print("last reply \(await outcomes.lastValue)")
            let values = await outcomes.values
            var drops: [String] = []
            for i in 1..<values.count where values[i] != values[i - 1] + 1 { drops.append("\(i):\(values[i - 1])->\(values[i])") }
            print("values \(values.count) distinct \(Set(values).count) jumps \(drops.prefix(20))")
            print("failover: acknowledged \(acknowledged) (\(ackedAtSwitch) before the switch), in doubt \(inDoubt), counter \(counter)")
        }
    }

    /// The switch follows the promotion itself: commands are held from `+selected-slave`,
    /// the client moves when ROLE on the replica says master, before any sentinel
    /// announces `+switch-master`, and Sentinel later names the same master.
    @Test func switchesToThePromotedReplicaBeforeSwitchMaster() async throws {
        try await withTopology { topology in
            let client = makeClient(topology.configuration())
            let recorder = EventRecorder()
            let seen = try await running(client) {
                _ = try await client.verifiedMaster()
                #expect(await eventually(within: 5) { await client.knownSentinels.filter(\.subscribed).count == 3 })
                let stream = client.topologyEvents()
                let events = Task {
                    for await event in stream {
                        await recorder.append(event)
                        if case .sentinelEvent(let e) = event, e.channel == "+switch-master" { return }
                    }
                }
                #expect(try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName) == "OK\n")
                _ = await events.value
                return await recorder.events
            }
            let held = seen.firstIndex { if case .commandsHeld = $0 { return true } else { return false } }
            let switched = seen.firstIndex { if case .masterSwitched(.some, _) = $0 { return true } else { return false } }
            let announced = seen.firstIndex { if case .sentinelEvent(let e) = $0 { return e.channel == "+switch-master" } else { return false } }
            let (h, s, a) = (try #require(held, "\(seen)"), try #require(switched, "\(seen)"), try #require(announced, "\(seen)"))
            #expect(h < s && s < a, "held, switched, then announced: \(seen)")
            guard case .masterSwitched(_, let to) = seen[s] else { return }
            #expect(to.port == topology.sentinelMasterPort(), "Sentinel names the master the client moved to")
            #expect(!seen.contains { if case .earlySwitchOverruled = $0 { return true } else { return false } })
        }
    }

    static func reportsTheDrop(_ event: TopologyEvent, of master: ServerAddress) -> Bool {
        switch event {
        case .masterUnreachable: return true
        case .commandsHeld(_, let replacing): return replacing == master
        default: return false
        }
    }

    // Acceptance 5
    @Test func reportsAKilledMasterThenFollowsThePromotion() async throws {
        var options = Topology.Options()
        options.downAfterMilliseconds = 1000
        try await withTopology(options) { topology in
            var configuration = topology.configuration()
            configuration.masterWaitTimeout = .seconds(30)
            let client = makeClient(configuration)
            let recorder = EventRecorder()
            let (seen, newMaster) = try await running(client) {
                _ = try await client.verifiedMaster()
                let stream = client.topologyEvents()
                let events = Task {
                    for await event in stream {
                        await recorder.append(event)
                        if case .masterSwitched(let from, _) = event, from != nil { return }
                    }
                }
                let pid = try #require(topology.pid(ofPort: topology.masterPort))
                kill(pid, SIGKILL)
                // The drop is reported before the switch: as unreachable, or (when the
                // sentinels' failover is followed at once) as commands held to replace it.
                let killed = ServerAddress(host: "127.0.0.1", port: topology.masterPort)
                let reported = await eventually(within: 10) {
                    await recorder.events.contains { Self.reportsTheDrop($0, of: killed) }
                }
                #expect(reported)
                // A command during the outage waits for the promotion and runs on the new master.
                let reply = try await client.execute(RESPCommand("SET", "after-kill", "1"))
                #expect(reply.string == "OK")
                _ = await events.value
                return (await recorder.events, await client.master?.address)
            }

            let killed = ServerAddress(host: "127.0.0.1", port: topology.masterPort)
            let unreachable = seen.firstIndex { Self.reportsTheDrop($0, of: killed) }
            let switched = seen.firstIndex { if case .masterSwitched(.some, _) = $0 { return true } else { return false } }
            #expect(unreachable != nil, "events: \(seen)")
            #expect(switched != nil, "events: \(seen)")
            if let unreachable, let switched { #expect(unreachable < switched) }
            #expect(newMaster?.port != topology.masterPort)
            if let newMaster {
                #expect(try topology.cli(newMaster.port, "GET", "after-kill") == "1\n")
            }
        }
    }

    // Acceptance 6
    @Test func shutdownLeavesNoConnectionAnywhereAndLogsNoError() async throws {
        try await withTopology { topology in
            let logs = RecordingLogs()
            let name = "sr-shutdown-\(UInt32.random(in: 0...UInt32.max))"
            var configuration = topology.configuration(clientName: name)
            configuration.poolSize = 3
            let client = SentinelClient(configuration: configuration, logger: logs.logger())
            try await running(client) {
                _ = try await client.verifiedMaster()
                async let a = client.execute(RESPCommand("SET", "k", "v"))
                async let b = client.execute(RESPCommand("GET", "k"))
                async let c = client.execute([RESPCommand("INCR", "n"), RESPCommand("INCR", "n")])
                _ = try await (a, b, c)
                // Wait until every sentinel's watcher is subscribed, so there is something to stop.
                #expect(await eventually(within: 5) { await client.knownSentinels.filter(\.subscribed).count == topology.sentinelPorts.count })
                let before = topology.connections(named: name)
                #expect(before.contains { $0.contains("cmd=subscribe") || $0.contains("sub=") && !$0.contains("sub=0 ") })
                #expect(before.contains { $0.hasPrefix("port \(topology.masterPort):") })
                await client.shutdown()
            }
            await client.shutdown()  // idempotent
            #expect(client.openConnections == 0)
            let gone = await eventually(within: 2) { topology.connections(named: name).isEmpty }
            #expect(gone, "still connected: \(topology.connections(named: name))")
            #expect(logs.errors.isEmpty, "logged at error level: \(logs.errors)")
            await #expect(throws: SentinelClientError.self) { try await client.execute(RESPCommand("PING")) }
        }
    }

    @Test func retriesACommandThatWasNeverSent() async throws {
        try await withTopology { topology in
            let client = makeClient(topology.configuration())
            let reply = try await running(client) {
                _ = try await client.verifiedMaster()
                // Kill every connection of ours on the master: the next command finds a dead idle connection.
                try topology.cli(topology.masterPort, "CLIENT", "KILL", "TYPE", "normal")
                // A close our event loop has not read yet cannot be seen from outside the client.
                try await Task.sleep(nanoseconds: 100_000_000)  // let the close reach our event loop
                return try await client.execute(RESPCommand("INCR", "once"))
            }
            #expect(reply.integer == 1)
            #expect(try topology.cli(topology.masterPort, "GET", "once") == "1\n")
        }
    }
}
