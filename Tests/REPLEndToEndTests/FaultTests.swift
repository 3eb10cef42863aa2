import Foundation
import TestTopology
import Testing

/// Faults against the real topology; every line of a batch counted.
@Suite(.serialized, .timeLimit(.minutes(4 * testSlowdown)))
struct FaultTests {
    /// `CLIENT PAUSE 800 WRITE`, shorter than down-after-milliseconds: the writes wait
    /// and go on; nothing is in doubt, nothing ran twice.
    @Test func aShortWritePauseOnlyDelaysTheLines() async throws {
        try await withTopology { topology in
            let feed = "for i in $(seq 300); do printf 'INCR counter\\n%.0s' 1 2 3 4 5 6 7 8 9 10; sleep 0.005; done"
            let run = topology.runREPL(fedBy: feed)
            #expect(try await eventually(within: 20) { try topology.cli(topology.masterPort, "GET", "counter") != "\n" })
            #expect(try topology.cli(topology.masterPort, "CLIENT", "PAUSE", "800", "WRITE") == "OK\n")
            let result = try await run.value
            let output = result.outputLines
            #expect(output.count == 3000 && output.allSatisfy { Int($0) != nil }, "\(output.filter { Int($0) == nil }.prefix(3))")
            #expect(result.status == 0)
            #expect(try topology.cli(topology.masterPort, "GET", "counter") == "3000\n")
            #expect(topology.sentinelMasterPort() == topology.masterPort, "no failover")
        }
    }

    /// Two failovers in a row under a paced stream: every line one outcome, none run
    /// twice, and no connection of ours is left on either demoted master.
    @Test func twoFailoversInARowUnderAStream() async throws {
        var options = Topology.Options()
        options.failoverTimeoutMilliseconds = 3000
        try await withTopology(options) { topology in
            let feed = "for i in $(seq 2500); do printf 'INCR counter\\n%.0s' 1 2 3 4 5 6 7 8 9 10; sleep 0.005; done"
            let run = topology.runREPL(fedBy: feed)
            #expect(try await eventually(within: 20) { try topology.cli(topology.masterPort, "GET", "counter") != "\n" })
            var masters = [topology.masterPort]
            for _ in 0..<2 {
                #expect(await eventually(within: 20) {
                    (try? topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName)) == "OK\n"
                }, "a failover starts")
                var next: Int?
                #expect(await eventually(within: 30) {
                    next = topology.sentinelMasterPort()
                    let flags = (try? topology.cli(topology.sentinelPorts[0], "SENTINEL", "master", topology.masterName)) ?? ""
                    return next != nil && next != masters.last && !flags.contains("failover_in_progress")
                }, "the failover ends")
                masters.append(try #require(next))
            }
            for old in masters.dropLast() {
                var ours: [String] = []
                let gone = await eventually(within: 5) {
                    ours = topology.replConnections().filter { $0.hasPrefix("port \(old):") }
                    return ours.isEmpty
                }
                #expect(gone, "no connection of ours on the demoted master \(old): \(ours)")
            }
            let output = try await run.value.outputLines
            #expect(output.count == 25_000, "every line one output line")
            let counter = Int(try topology.cli(try #require(masters.last), "GET", "counter").dropLast()) ?? 0
            let outcome = BatchOutcome(counting: output, counter: counter)
            print("two failovers: \(outcome), masters \(masters)")
            outcome.expectNoneLostOrRunTwice()
        }
    }

    /// The master hung (SIGSTOP: no RST, no FIN) under a paced stream until Sentinel fails
    /// over, then resumed (SIGCONT) as soon as a sentinel names the new master: it comes back as a master and answers what it had
    /// read, until Sentinel converts it. Those answers are not acknowledgments; every line
    /// has one outcome, none ran twice, and no connection of ours stays on the old master.
    @Test func aHungMasterResumedAfterTheFailoverGetsNoLineAndKeepsNoConnection() async throws {
        var options = Topology.Options()
        options.downAfterMilliseconds = 1000
        options.failoverTimeoutMilliseconds = 4000
        try await withTopology(options) { topology in
            let feed = "for i in $(seq 2000); do printf 'INCR counter\\n%.0s' 1 2 3 4 5 6 7 8 9 10; sleep 0.005; done"
            let run = topology.runREPL(fedBy: feed)
            #expect(try await eventually(within: 20) { try topology.cli(topology.masterPort, "GET", "counter") != "\n" })
            let old = try #require(topology.pid(ofPort: topology.masterPort))
            kill(old, SIGSTOP)
            var resumed = false
            defer { if !resumed { kill(old, SIGCONT) } }
            var next: Int?
            #expect(await eventually(within: 30) {
                next = topology.sentinelMasterPort()
                return next != nil && next != topology.masterPort
            }, "Sentinel fails the hung master over")
            kill(old, SIGCONT)
            resumed = true
            let newMaster = try #require(next)
            #expect(await eventually(within: 30) {
                ((try? topology.cli(topology.masterPort, "ROLE")) ?? "").hasPrefix("slave")
            }, "Sentinel converts the old master")
            var ours: [String] = []
            let gone = await eventually(within: 5) {
                ours = topology.replConnections().filter { $0.hasPrefix("port \(topology.masterPort):") }
                return ours.isEmpty
            }
            #expect(gone, "no connection of ours on the old master: \(ours)")
            let result = try await run.value
            let output = result.outputLines
            #expect(output.count == 20_000, "every line one output line")
            let counter = Int(try topology.cli(newMaster, "GET", "counter").dropLast()) ?? 0
            let outcome = BatchOutcome(counting: output, counter: counter)
            print("hung master resumed: \(outcome)")
            outcome.expectNoneLostOrRunTwice()
        }
    }

    /// Every sentinel stopped while the prompt idles: the prompt says so, commands still
    /// reach the master; the sentinels started again: it recovers without a restart.
    @Test func allSentinelsStoppedThenStartedAgain() async throws {
        try await withREPL { (topology, terminal) async throws in
            for port in topology.sentinelPorts { kill(try #require(topology.pid(ofPort: port)), SIGKILL) }
            #expect(terminal.waitFor("(0/3 sentinels)> ", seconds: 20), "screen: \(terminal.screen)")
            #expect(terminal.enter("SET k still", thenPromptAfter: "OK"), "the known master still serves")
            let restarted = terminal.mark()
            for port in topology.sentinelPorts {
                let started = try Topology.run(topology.serverBinary, ["\(topology.directory)/sentinel-\(port).conf", "--sentinel"])
                #expect(started.status == 0, "\(started.stderr)")
            }
            #expect(terminal.waitFor("-- 3/3 sentinels agree", since: restarted, seconds: 30), "screen: \(terminal.screen)")
            #expect(terminal.enter("GET k", thenPromptAfter: "\"still\""))
            #expect(terminal.screen.hasSuffix("mymaster@127.0.0.1:\(topology.masterPort)> "), "no mark left: \(terminal.screen)")
        }
    }
}
