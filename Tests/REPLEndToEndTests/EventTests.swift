import Foundation
import TestTopology
import Testing

/// Sentinel's events about the master as notices: above the prompt (`:events on|off`),
/// on stderr with `--events` elsewhere; each once, however many sentinels publish it.
@Suite(.serialized, .timeLimit(.minutes(3 * testSlowdown)))
struct EventTests {
    /// A killed master, with `GET half` typed and not entered: the notices come once
    /// each, the prompt moves, the half-typed line stays and runs on the new master.
    @Test func aKilledMastersEventsShowOnceAndTheLineSurvives() async throws {
        var options = Topology.Options()
        options.downAfterMilliseconds = 1000
        options.failoverTimeoutMilliseconds = 4000
        try await withREPL(options) { (topology, terminal) async throws in
            #expect(terminal.enter("SET half moved", thenPromptAfter: "OK"))
            #expect(
                try await eventually(within: 10) {
                    try topology.cli(topology.replicaPorts[0], "GET", "half") == "moved\n"
                        && topology.cli(topology.replicaPorts[1], "GET", "half") == "moved\n"
                }, "the replicas have the key")
            terminal.type("GET half")
            let old = topology.masterPort
            kill(try #require(topology.pid(ofPort: old)), SIGKILL)
            let moved = terminal.waitForFirst(seconds: 40) { screen -> Int? in
                guard let line = screen.split(separator: "\n").first(where: { $0.contains("-- failover: master of mymaster moved from ") })
                else { return nil }
                return line.split(separator: ":").last.flatMap { Int($0) }
            }
            let newPort = try #require(moved, "screen: \(terminal.screen)")
            #expect(terminal.waitFor("mymaster@127.0.0.1:\(newPort)> GET half", seconds: 20), "screen: \(terminal.screen)")
            // A notice is drawn over the edited line (CR, clear line): on the screen as
            // read here it follows the half-typed text.
            let screen = terminal.screen
            for notice in [
                " cannot reach master 127.0.0.1:\(old)\n", "-- master 127.0.0.1:\(old) is down: the sentinels agree\n",
                "-- failover: master of mymaster moved from 127.0.0.1:\(old) to ", "-- failover of mymaster started: Sentinel replaces 127.0.0.1:\(old)\n",
            ] {
                #expect(screen.components(separatedBy: notice).count == 2, "\(notice) once: \(screen.debugDescription)")
            }
            #expect(!screen.hasSuffix("(failover)> GET half"), "the failover is over: \(screen.debugDescription)")
            #expect(terminal.enter("", thenPromptAfter: "\"moved\"", seconds: 15), "Enter runs the kept line on the new master")
            let summary = terminal.screen.split(separator: "\n").first { $0.hasPrefix("-- failover summary: ") }
            #expect(
                summary?.wholeMatch(of: /-- failover summary: 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+, \d+\.\d\d s from the first sign of trouble to (the first reply from the new master|the switch \(no command was waiting\)), \d+ command\(s\) in doubt.*/) != nil,
                "screen: \(terminal.screen.debugDescription)")
            #expect(summary?.contains("127.0.0.1:\(old) -> 127.0.0.1:\(newPort),") == true, "old and new master named")
        }
    }

    @Test func eventsOffKeepsOnlyTheFailoverNotice() async throws {
        try await withREPL { (topology, terminal) async throws in
            #expect(terminal.enter(":events", thenPromptAfter: "events on"))
            #expect(terminal.enter(":events off", thenPromptAfter: "events off"))
            try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName)
            #expect(terminal.waitFor("-- failover: master of mymaster moved from", seconds: 30), "screen: \(terminal.screen)")
            #expect(!terminal.screen.contains("-- +switch-master") && !terminal.screen.contains("-- failover of mymaster started"), "no step while off")
            #expect(terminal.enter(":events maybe", thenPromptAfter: "Usage: :events on|raw|off"))
            // A sentinel's late copy of the first switch must not count: name the second one's old master.
            let first = try #require(topology.sentinelMasterPort())
            #expect(terminal.enter(":events raw", thenPromptAfter: "\nevents raw"))
            let raw = terminal.mark()
            try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName)
            #expect(
                terminal.waitFor("-- +switch-master mymaster 127.0.0.1 \(first) ", since: raw, seconds: 30),
                "Sentinel's own messages: \(terminal.screen)")
        }
    }

    /// At an idle prompt, `SENTINEL FAILOVER` reads as one plain line per step, each once
    /// (however many sentinels repeat it, however far apart), with the summary at the
    /// switch and no keystroke; none of Sentinel's raw messages.
    @Test func aFailoverAtAnIdlePromptIsOnePlainLinePerStep() async throws {
        try await withREPL { (topology, terminal) async throws in
            let old = topology.address(of: topology.masterPort)
            // The prompt comes before the subscriptions: a failover at once would be heard from the middle.
            #expect(
                await eventually(within: 10) {
                    topology.replConnections().filter { $0.contains(" cmd=subscribe ") || $0.contains(" cmd=psubscribe ") }.count
                        >= topology.sentinelPorts.count
                }, "subscribed to every sentinel: \(topology.replConnections())")
            try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName)
            #expect(terminal.waitFor("-- the old master \(old) is back, as a replica of ", seconds: 40), "screen: \(terminal.screen)")
            try await Task.sleep(for: .seconds(3))  // a late repeat of any step would show by now
            let lines = terminal.screen.split(separator: "\n")
            let notices = lines.compactMap { line in line.range(of: "-- ").map { String(line[$0.lowerBound...]) } }
            let steps = [
                "-- failover of mymaster started: Sentinel replaces \(old)", "-- Sentinel chose replica ",
                "-- replica ", "-- failover: master of mymaster moved from \(old) to ", "-- failover summary: \(old) -> ",
                "-- the old master \(old) is back",
            ]
            for step in steps {
                #expect(notices.filter { $0.hasPrefix(step) }.count == 1, "\(step) once: \(notices)")
            }
            #expect(notices.count == steps.count, "nothing else: \(notices)")
            #expect(notices.contains { $0.contains("to the switch (no command was waiting)") }, "the summary at the switch: \(notices)")
        }
    }

    /// Outside the prompt, `--events` puts them on stderr, one timestamped line each,
    /// and stdout keeps one reply per repetition.
    @Test func eventsOnStderrWithTimestamps() async throws {
        try await withTopology { topology in
            #expect(try topology.cli(topology.masterPort, "SET", "k", "v") == "OK\n")
            let command = topology.replCommand(["--events", "-r", "16", "-i", "0.5", topology.masterName, "GET", "k"])
            let run = Task.detached { try Topology.run(command[0], Array(command.dropFirst())) }
            _ = try await topology.replClientID(showing: " cmd=get ")  // the repetitions are under way
            try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName)
            let result = try await run.value
            #expect(Array(result.outputLines) == Array(repeating: "v", count: 16))
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.contains { $0.contains("-- failover: master of mymaster moved from ") }, "stderr: \(result.stderr)")
            #expect(
                lines.allSatisfy { $0.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z -- .+/) != nil },
                "one timestamped notice a line: \(result.stderr)")
        }
    }

    /// A sentinel hung with SIGSTOP keeps its watcher link open and quiet: the periodic
    /// probe of every sentinel finds it. The prompt marks the reduced agreement, a notice
    /// names it, `:sentinels` shows it unreachable with the quorum check; SIGCONT clears it.
    @Test func aHungSentinelIsMarkedAtThePromptUntilItResumes() async throws {
        try await withREPL { (topology, terminal) async throws in
            let hung = topology.sentinelPorts[2]
            let pid = try #require(topology.pid(ofPort: hung))
            kill(pid, SIGSTOP)
            defer { kill(pid, SIGCONT) }
            #expect(
                terminal.waitFor("-- 2/3 sentinels agree, 1 unreachable; not answering: 127.0.0.1:\(hung)", seconds: 20),
                "screen: \(terminal.screen.debugDescription)")
            let marked = "mymaster@127.0.0.1:\(topology.masterPort) (2/3 sentinels)> "
            #expect(terminal.waitFor(marked, seconds: 5), "screen: \(terminal.screen.debugDescription)")
            #expect(terminal.enter(":sentinels", thenPromptAfter: "quorum", seconds: 10))
            let report = terminal.screen.split(separator: "\n")
            let row = report.last { $0.hasPrefix("127.0.0.1:\(hung) ") }
            #expect(row?.contains(" no ") == true, "the hung sentinel is unreachable: \(report.suffix(6))")
            // Sentinel itself counts the hung one until its down-after-milliseconds.
            #expect(report.contains { $0.hasPrefix("quorum      OK ") && $0.contains("usable Sentinels") }, "\(report.suffix(6))")
            // A slow first check can already have printed "3/3" once: only a later one counts.
            let resumed = terminal.mark()
            kill(pid, SIGCONT)
            #expect(terminal.waitFor("-- 3/3 sentinels agree", since: resumed, seconds: 20), "screen: \(terminal.screen.debugDescription)")
            #expect(terminal.enter("PING", thenPromptAfter: "PONG"))
            #expect(terminal.screen.hasSuffix("mymaster@127.0.0.1:\(topology.masterPort)> "), "the mark is gone: \(terminal.screen.suffix(200))")
        }
    }
}
