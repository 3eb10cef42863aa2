import Foundation
import TestTopology
import Testing

/// The command line as a person types it: short options, passwords, the db, exit codes.
@Suite(.serialized, .timeLimit(.minutes(3 * testSlowdown)))
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

    /// A `redis+sentinel://` URL in the master name's place, with `-u`, or in env
    /// `SENTINEL_REPL_URL`: several sentinels (a dead one first), a percent-encoded
    /// password, the db and the sentinels' own password. The password is never repeated.
    @Test func aSentinelURLCarriesSentinelsCredentialsAndTheDatabase() async throws {
        var options = Topology.Options()
        options.dataPassword = "data-secret"
        options.sentinelPassword = "sentinel-secret"
        try await withTopology(options) { topology in
            let hosts = (["127.0.0.1:1"] + topology.sentinelPorts.map { "127.0.0.1:\($0)" }).joined(separator: ",")
            let url = "redis+sentinel://default:data%2Dsecret@\(hosts)/\(topology.masterName)/4?sentinel_pass=sentinel-secret"
            func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Topology.RunResult {
                let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                return try Topology.run(sentinelREPLExecutable, arguments, environment: merged)
            }
            let set = try run([url, "SET", "k", "in-db-4"])
            #expect(set.status == 0, "\(set.stderr)")
            #expect(set.stdout == "OK\n")
            #expect(set.stderr.contains("Warning: Using a password"), "a password on the command line, as redis-cli warns")
            #expect(try topology.cli(topology.masterPort, "-n", "4", "GET", "k") == "in-db-4\n")
            let viaOption = try run(["-u", url, "GET", "k"])
            #expect(viaOption.stdout == "in-db-4\n", "\(viaOption.stderr)")
            let viaEnvironment = try run(["GET", "k"], environment: ["SENTINEL_REPL_URL": url])
            #expect(viaEnvironment.stdout == "in-db-4\n", "\(viaEnvironment.stderr)")
            #expect(viaEnvironment.stderr.isEmpty, "no warning: the password is not in ps")
            let named = try run([topology.masterName, "GET", "k"], environment: ["SENTINEL_REPL_URL": url])
            #expect(named.stdout == "in-db-4\n", "the URL's master name in its place is the name: \(named.stderr)")
            let overridden = try run(
                ["-s", "127.0.0.1:\(topology.sentinelPorts[0])", "--sentinel-pass", "sentinel-secret", "-a", "data-secret",
                 topology.masterName, "GET", "k"], environment: ["SENTINEL_REPL_URL": url])
            #expect(overridden.stdout == "\n", "with -s the environment's URL (and its db 4) is not used: \(overridden.stderr)")

            let wrong = try run([url.replacingOccurrences(of: "data%2Dsecret", with: "wrong-pass-123"), "PING"])
            #expect(wrong.status == 1)
            #expect(wrong.stderr.contains("refused the credentials") && wrong.stderr.contains("(the URL's user:password@)"), "\(wrong.stderr)")
            #expect(!wrong.stderr.contains("wrong-pass-123") && !wrong.stdout.contains("wrong-pass-123"), "the password is not repeated")

            for bad in ["redis+sentinel://127.0.0.1:1/", "redis+sentinel://u:p@127.0.0.1:99999/m", "redis+sentinel://127.0.0.1/m/db"] {
                let refused = try run([bad, "PING"])
                #expect(refused.status == 2, "\(bad)")
                #expect(refused.stderr.hasPrefix("sentinel-repl: invalid Sentinel URL: ") && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
            }
            let both = try run(["-s", "127.0.0.1:\(topology.sentinelPorts[0])", url, "PING"])
            #expect(both.status == 2, "a URL and -s exclude each other")
        }
    }

    /// Passwords given in env `SENTINEL_REPL_URL` appear nowhere: not in the process's
    /// argv (what `ps` shows), `:master`, `:sentinels`, `:pool`, an error, the history
    /// file or the `--verbose` log.
    @Test func aURLsPasswordsShowNowhere() async throws {
        var options = Topology.Options()
        options.dataPassword = "data-secret-7731"
        options.sentinelPassword = "sentinel-secret-8842"
        try await withTopology(options) { topology in
            let hosts = topology.sentinelPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",")
            let url = "redis+sentinel://default:data-secret-7731@\(hosts)/\(topology.masterName)?sentinel_pass=sentinel-secret-8842"
            let history = NSTemporaryDirectory() + "history-\(UInt32.random(in: 0...UInt32.max))"
            defer { unlink(history) }
            let terminal = try PseudoTerminal(
                sentinelREPLExecutable, ["--verbose", "--history-file", history], environment: ["SENTINEL_REPL_URL": url])
            defer { terminal.close() }
            #expect(terminal.waitFor("mymaster@127.0.0.1:\(topology.masterPort)> ", seconds: 15), "screen: \(terminal.screen)")
            let argv = (try? String(contentsOfFile: "/proc/\(terminal.pid)/cmdline", encoding: .utf8)) ?? ""
            #expect(argv.contains("--verbose"), "argv read: \(argv)")
            #expect(terminal.enter(":master", thenPromptAfter: "address     127.0.0.1:\(topology.masterPort)"))
            #expect(terminal.enter(":sentinels", thenPromptAfter: "quorum"))
            #expect(terminal.enter(":pool", thenPromptAfter: "last error"))
            #expect(terminal.enter("AUTH default wrong-one", thenPromptAfter: "(error)"))
            #expect(terminal.enter("SET k v", thenPromptAfter: "OK"))
            terminal.type("\u{4}")
            #expect(terminal.waitForExit() == 0)
            let saved = (try? String(contentsOfFile: history, encoding: .utf8)) ?? ""
            #expect(saved.contains("SET\\040k\\040v"), "history (libedit writes a space as \\040): \(saved)")
            #expect(terminal.stderr.contains("ROLE confirms the master"), "the log: \(terminal.stderr)")
            for (place, text) in [("argv", argv), ("screen", terminal.screen), ("log", terminal.stderr), ("history", saved)] {
                #expect(!text.contains("secret"), "a password in the \(place): \(text)")
            }
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
        // A number of seconds becomes Int64 nanoseconds: infinity or 1e10 would trap there.
        for (option, value) in [("--timeout", "inf"), ("--connect-timeout", "1e10"), ("--interval", "nan")] {
            let refused = try Topology.run(sentinelREPLExecutable, ["-s", "127.0.0.1:1", option, value, "m", "PING"])
            #expect(refused.status == 2 && refused.stderr.contains("\(option) takes a number of seconds"), "\(option) \(value): \(refused.stderr)")
        }
        let unreachable = try Topology.run(sentinelREPLExecutable, ["-s", "127.0.0.1:1", "m", "PING"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("127.0.0.1:1: connection refused"))
        #expect(unreachable.stdout.isEmpty)
    }
}
