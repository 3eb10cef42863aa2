import Foundation
import TestTopology
import Testing

/// The command line as a person types it: short options, passwords, the db, exit codes.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct CommandLineTests {
    @Test func dbAndPasswordOptionsReachTheServerAndThePrompt() async throws {
        var options = Topology.Options()
        options.dataPassword = "data-secret"
        options.sentinelPassword = "sentinel-secret"
        try await withTopology(options) { topology in
            let set = try topology.runREPL(
                ["-a", "data-secret", "--sentinel-pass", "sentinel-secret", "-n", "3", topology.masterName, "SET", "k", "in-db-3"])
            #expect(set.status == 0)
            #expect(set.stdout == "OK\n")
            #expect(set.stderr.contains("Warning: Using a password"), "redis-cli's -a warning")
            #expect(try topology.cli(topology.masterPort, "-n", "3", "GET", "k") == "in-db-3\n")

            let terminal = try topology.openREPL(
                ["-n", "3", "--history-file", "/dev/null"],
                environment: ["REDISCLI_AUTH": "data-secret", "SENTINEL_REPL_SENTINEL_AUTH": "sentinel-secret"])
            defer { terminal.close() }
            #expect(terminal.waitFor("\(topology.masterName)@127.0.0.1:\(topology.masterPort)[3]> "))
            terminal.type("MULTI\r")
            #expect(terminal.waitFor("[3](TX)> "))
            #expect(terminal.enter("DISCARD", thenPromptAfter: "OK"))
            #expect(terminal.screen.hasSuffix("[3]> "), "DISCARD ends (TX)")
            terminal.type("\u{4}")
            #expect(terminal.waitForExit() == 0)
        }
    }

    /// --verbose writes the client's log to stderr with timestamps; without it stderr stays empty.
    @Test func verboseLogsDiscoveryToStderr() async throws {
        try await withTopology { topology in
            let verbose = try topology.runREPL(["--verbose", topology.masterName, "PING"])
            #expect(verbose.status == 0)
            #expect(verbose.stdout == "PONG\n", "the log stays off stdout")
            let lines = verbose.stderr.split(separator: "\n")
            let confirmed = lines.first { $0.contains("ROLE confirms the master") }
            #expect(confirmed?.contains("master=127.0.0.1:\(topology.masterPort)") == true, "stderr: \(verbose.stderr)")
            #expect(
                lines.allSatisfy { $0.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*/) != nil },
                "every line starts with a timestamp: \(verbose.stderr)")
            let quiet = try topology.runREPL([topology.masterName, "PING"])
            #expect(quiet.stdout == "PONG\n")
            #expect(quiet.stderr.isEmpty)
        }
    }

    @Test func usageErrorsExit2AndUnreachableExits1() async throws {
        let usage = try Topology.run(sentinelREPLExecutable, ["--no-such-option", "m"])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("Unknown option"))
        let unreachable = try Topology.run(sentinelREPLExecutable, ["-s", "127.0.0.1:1", "m", "PING"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("127.0.0.1:1: connection refused"))
        #expect(unreachable.stdout.isEmpty)
    }
}
