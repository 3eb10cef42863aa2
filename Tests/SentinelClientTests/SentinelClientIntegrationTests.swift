import Foundation
import NIOCore
import RESP
import TestTopology
import Testing

@testable import SentinelClient

/// Against real redis-server and redis-sentinel processes on 127.0.0.1.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct SentinelClientIntegrationTests {
    // Acceptance 1
    @Test func discoveryPassesADeadFirstSentinel() async throws {
        try await withTopology { topology in
            let dead = ServerAddress(host: "127.0.0.1", port: 1)
            let client = SentinelClient(
                configuration: topology.configuration(sentinels: [dead] + topology.sentinelAddresses, reconcileInterval: .seconds(60)))
            try await client.start()
            let master = await client.master
            let attempts = await client.lastDiscoveryAttempts
            await client.shutdown()
            #expect(master?.address.port == topology.masterPort)
            #expect(attempts == [DiscoveryAttempt(sentinel: dead, reason: .connectionRefused)])
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
            let client = SentinelClient(configuration: configuration)
            let started = Date()
            try await client.start()
            let elapsed = Date().timeIntervalSince(started)
            let master = await client.master
            let attempts = await client.lastDiscoveryAttempts
            await client.shutdown()
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
            let client = SentinelClient(configuration: configuration)
            await #expect {
                try await client.start()
            } throws: { error in
                guard case SentinelClientError.unknownMasterName(let name, let attempts) = error else { return false }
                return name == "no-such-master" && attempts.count == 3
                    && "\(error)".contains("no sentinel knows a master named 'no-such-master'")
            }
            await client.shutdown()
        }
    }

    @Test func noReachableSentinelNamesEveryAddressTried() async throws {
        let addresses = [ServerAddress(host: "127.0.0.1", port: 1), ServerAddress(host: "127.0.0.1", port: 2)]
        let client = SentinelClient(configuration: SentinelClientConfiguration(sentinels: addresses, masterName: "m"))
        await #expect {
            try await client.start()
        } throws: { error in
            guard case SentinelClientError.noSentinelReachable = error else { return false }
            return "\(error)".contains("127.0.0.1:1: connection refused") && "\(error)".contains("127.0.0.1:2: connection refused")
        }
        await client.shutdown()
    }

    @Test func aWrongSentinelPasswordIsItsOwnError() async throws {
        var options = Topology.Options()
        options.sentinelPassword = "sentinel-secret"
        options.dataPassword = "data-secret"
        try await withTopology(options) { topology in
            var configuration = topology.configuration()
            configuration.sentinelCredentials = Credentials(password: "wrong")
            let client = SentinelClient(configuration: configuration)
            await #expect {
                try await client.start()
            } throws: { error in
                guard case SentinelClientError.sentinelAuthenticationFailed = error else { return false }
                return "\(error)".contains("WRONGPASS")
            }
            await client.shutdown()
            // The right passwords work, on both sentinels and data nodes.
            let good = SentinelClient(configuration: topology.configuration())
            try await good.start()
            let reply = try await good.send(RESPCommand("PING"))
            await good.shutdown()
            #expect(reply.string == "PONG")
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
            let client = SentinelClient(
                configuration: topology.configuration(sentinels: [liar.address] + topology.sentinelAddresses, reconcileInterval: .seconds(60)))
            try await client.start()
            let master = await client.master
            let attempts = await client.lastDiscoveryAttempts
            let sentinels = await client.knownSentinels
            await client.shutdown()
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
            let client = SentinelClient(configuration: topology.configuration())
            try await client.start()
            let connection = try await RedisConnection.connect(
                to: fake.address, on: client.group, handshake: HandshakeSettings(),
                connectTimeout: .seconds(1), commandTimeout: .seconds(1))
            await #expect {
                _ = try await connection.send(RESPCommand("GET", "k"))
            } throws: { error in
                guard case SentinelClientError.malformedReply(_, let description) = error else { return false }
                return description.contains("missing CRLF")
            }
            try? await connection.closeFuture.get()
            #expect(!connection.isActive)
            await client.shutdown()
            await fake.stop()
        }
    }

    // Acceptance 4
    @Test func followsSentinelFailoverWithoutRunningACommandTwice() async throws {
        try await withTopology { topology in
            let client = SentinelClient(configuration: topology.configuration())
            try await client.start()
            let outcomes = Outcomes()
            let writer = Task {
                while await !outcomes.stopped {
                    let result: Result<RESPValue, Error>
                    do { result = .success(try await client.send(RESPCommand("INCR", "counter"))) } catch {
                        result = .failure(error)
                    }
                    await outcomes.record(result)
                }
            }
            try await Task.sleep(nanoseconds: 300_000_000)
            try topology.cli(topology.sentinelPorts[1], "SENTINEL", "FAILOVER", topology.masterName)
            let switched = await eventually(within: 30) {
                await client.master.map { $0.address.port != topology.masterPort } ?? false
            }
            #expect(switched)
            let ackedAtSwitch = await outcomes.acknowledged
            try await Task.sleep(nanoseconds: 1_000_000_000)
            await outcomes.stop()
            _ = await writer.value
            let newMaster = try #require(await client.master?.address.port)
            let failovers = await client.failoversFollowed
            await client.shutdown()

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

    // Acceptance 5
    @Test func reportsAKilledMasterThenFollowsThePromotion() async throws {
        var options = Topology.Options()
        options.downAfterMilliseconds = 1000
        try await withTopology(options) { topology in
            var configuration = topology.configuration()
            configuration.masterWaitTimeout = .seconds(30)
            let client = SentinelClient(configuration: configuration)
            try await client.start()
            let recorder = EventRecorder()
            let events = Task {
                for await event in client.events {
                    await recorder.append(event)
                    if case .masterSwitched(let from, _) = event, from != nil { return }
                }
            }
            let pid = try #require(topology.pid(ofPort: topology.masterPort))
            kill(pid, SIGKILL)
            // The drop is noticed and reported before Sentinel has promoted anyone.
            let reported = await eventually(within: 10) {
                await recorder.events.contains { if case .masterUnreachable = $0 { return true } else { return false } }
            }
            #expect(reported)
            // A command during the outage waits for the promotion and runs on the new master.
            let reply = try await client.send(RESPCommand("SET", "after-kill", "1"))
            #expect(reply.string == "OK")
            _ = await events.value
            let seen = await recorder.events
            let newMaster = await client.master?.address
            await client.shutdown()

            let unreachable = seen.firstIndex { if case .masterUnreachable = $0 { return true } else { return false } }
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
            try await client.start()
            async let a = client.send(RESPCommand("SET", "k", "v"))
            async let b = client.send(RESPCommand("GET", "k"))
            async let c = client.pipeline([RESPCommand("INCR", "n"), RESPCommand("INCR", "n")])
            _ = try await (a, b, c)
            // Wait until both watchers are subscribed, so there is something to stop.
            #expect(await eventually(within: 5) { await client.knownSentinels.filter(\.subscribed).count == 2 })
            let before = topology.connections(named: name)
            #expect(before.contains { $0.contains("cmd=subscribe") || $0.contains("sub=") && !$0.contains("sub=0 ") })
            #expect(before.contains { $0.hasPrefix("port \(topology.masterPort):") })
            await client.shutdown()
            await client.shutdown()  // idempotent
            #expect(client.openConnections == 0)
            let gone = await eventually(within: 2) { topology.connections(named: name).isEmpty }
            #expect(gone, "still connected: \(topology.connections(named: name))")
            #expect(logs.errors.isEmpty, "logged at error level: \(logs.errors)")
            await #expect(throws: SentinelClientError.self) { try await client.send(RESPCommand("PING")) }
        }
    }

    @Test func retriesACommandThatWasNeverSent() async throws {
        try await withTopology { topology in
            let client = SentinelClient(configuration: topology.configuration())
            try await client.start()
            // Kill every connection of ours on the master: the next command finds a dead idle connection.
            try topology.cli(topology.masterPort, "CLIENT", "KILL", "TYPE", "normal")
            try await Task.sleep(nanoseconds: 100_000_000)  // let the close reach our event loop
            let reply = try await client.send(RESPCommand("INCR", "once"))
            await client.shutdown()
            #expect(reply.integer == 1)
            #expect(try topology.cli(topology.masterPort, "GET", "once") == "1\n")
        }
    }
}
