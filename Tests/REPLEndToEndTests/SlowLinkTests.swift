import Foundation
import TestTopology
import Testing

/// A bastion far from the deployment: every sentinel and every data node behind a
/// forwarder that holds each direction 50 ms (a 100 ms round trip; this kernel has no
/// `tc netem`). The sentinels are given as their forwarders, the rest reached through
/// `--natmap`, and the default timeouts are kept: discovery, a 10,000-line batch, a
/// session that follows `SENTINEL FAILOVER`, and the same over TLS.
@Suite(.serialized, .timeLimit(.minutes(4 * testSlowdown)))
struct SlowLinkTests {
    @Test(arguments: [false, true].filter { !$0 || Topology.serverHasTLS })
    func everythingWorksOverA100msRoundTripWithTheDefaultTimeouts(tls: Bool) async throws {
        var options = Topology.Options()
        options.tls = tls
        try await withTopology(options) { topology in
            let nodes = (topology.dataPorts + topology.sentinelPorts).map { topology.address(of: $0) }
            let forwarders = try Forwarders(to: nodes, in: topology.directory, delayMilliseconds: 50)
            defer { forwarders.stop() }
            func forwarder(_ port: Int) throws -> String { "127.0.0.1:\(try #require(forwarders.ports[topology.address(of: port)]))" }
            var arguments = try topology.sentinelPorts.flatMap { ["-s", try forwarder($0)] }
            arguments += try (topology.dataPorts + topology.sentinelPorts).flatMap { ["--natmap", "\(topology.address(of: $0))=\(try forwarder($0))"] }
            if tls { arguments += ["--tls", "--sentinel-tls", "--cacert", try #require(topology.caCertificate)] }

            let started = ContinuousClock.now
            let oneShot = try Topology.run(sentinelREPLExecutable, arguments + [topology.masterName, "SET", "k", "before"])
            #expect(oneShot.status == 0 && oneShot.stdout == "OK\n" && oneShot.stderr.isEmpty, "\(oneShot)")
            print("slow link (tls: \(tls)): a one-shot SET in \(ContinuousClock.now - started)")

            let input = "\(topology.directory)/incr-lines"
            try String(repeating: "INCR n\n", count: 10_000).write(toFile: input, atomically: true, encoding: .utf8)
            let batchStarted = ContinuousClock.now
            let command = (([sentinelREPLExecutable] + arguments + [topology.masterName]).map(shellQuoted)).joined(separator: " ")
            let batch = try Topology.run("/bin/bash", ["-c", "\(command) < \(shellQuoted(input))"])
            #expect(batch.status == 0 && batch.stderr.isEmpty, "\(batch.stderr)")
            #expect(Array(batch.outputLines) == (1...10_000).map { Substring(String($0)) }, "every line once, in order")
            print("slow link (tls: \(tls)): 10,000 lines in \(ContinuousClock.now - batchStarted)")

            let terminal = try PseudoTerminal(sentinelREPLExecutable, arguments + ["--history-file", "/dev/null", topology.masterName])
            defer { terminal.close() }
            let bypass = BypassWatch(pid: terminal.pid, dataPorts: topology.dataPorts + topology.sentinelPorts)
            defer { _ = bypass.stop() }
            #expect(terminal.waitFor("> ", seconds: 15))
            // The announced sentinels map to the forwarders given: three sentinels, not six.
            #expect(terminal.enter(":master", thenPromptAfter: "agreement   3 of 3 sentinels name this master"), "screen: \(terminal.screen)")
            try await topology.expectFollowedFailover(in: terminal)
            terminal.type("\u{4}")
            #expect(terminal.waitForExit() == 0)
            #expect(terminal.stderr.isEmpty, "stderr: \(terminal.stderr)")
            let seen = bypass.stop()
            #expect(seen.samples >= 20 && seen.direct.isEmpty, "connections around the forwarders: \(seen.direct)")
        }
    }
}
