import Foundation
import TestTopology
import Testing

extension Topology {
    /// `-s` arguments for every sentinel, in order.
    var sentinelArguments: [String] { sentinelPorts.flatMap { ["-s", address(of: $0)] } }

    /// `host:port`, or `[::1]:port` on an IPv6 topology.
    func address(of port: Int) -> String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Runs sentinel-repl on this topology with `stdin` as its input.
    func runREPL(_ arguments: [String], stdin: String = "") throws -> Topology.RunResult {
        let input = NSTemporaryDirectory() + "repl-input-\(UInt32.random(in: 0...UInt32.max))"
        try stdin.write(toFile: input, atomically: true, encoding: .utf8)
        defer { unlink(input) }
        return try Topology.run("/bin/bash", ["-c", "\(replCommandLine(arguments)) < \(shellQuoted(input))"])
    }

    /// Runs sentinel-repl on this topology's master in the background, its stdin the
    /// output of the shell commands `feed`.
    func runREPL(fedBy feed: String, flags: [String] = []) -> Task<Topology.RunResult, Error> {
        let command = "(\(feed)) | \(replCommandLine(flags + [masterName]))"
        return Task.detached { try Topology.run("/bin/bash", ["-c", command]) }
    }

    private func replCommandLine(_ arguments: [String]) -> String {
        replCommand(arguments).map(shellQuoted).joined(separator: " ")
    }

    /// sentinel-repl's argv on this topology: the binary, `-s` for every sentinel, `arguments`.
    func replCommand(_ arguments: [String]) -> [String] {
        [sentinelREPLExecutable] + sentinelArguments + arguments
    }

    /// The id of our connection on the master once CLIENT LIST shows `field` for it
    /// (" cmd=blpop ", " multi=1 ").
    func replClientID(showing field: String) async throws -> String {
        var clients: [Substring] = []
        var id: Substring?
        // Generous: it may also cover the REPL's start on a slow machine.
        let found = try await eventually(within: 20) {
            clients = try cli(masterPort, "CLIENT", "LIST").split(separator: "\n")
            id = clients.first { $0.contains(" name=sentinel-repl ") && $0.contains(field) }?
                .split(separator: " ").first { $0.hasPrefix("id=") }
            return id != nil
        }
        guard found, let id else {
            Issue.record("no client showing '\(field)' in: \(clients)")
            throw CancellationError()
        }
        return String(id.dropFirst(3))
    }

    /// Runs redis-cli against the master with `stdin` as its input.
    func runRedisCli(_ arguments: [String], stdin: String = "") throws -> Topology.RunResult {
        let input = NSTemporaryDirectory() + "cli-input-\(UInt32.random(in: 0...UInt32.max))"
        try stdin.write(toFile: input, atomically: true, encoding: .utf8)
        defer { unlink(input) }
        let command = (["redis-cli", "-p", String(masterPort)] + arguments).map(shellQuoted).joined(separator: " ")
        return try Topology.run("/bin/bash", ["-c", "\(command) < \(shellQuoted(input))"])
    }

    /// Opens the REPL interactively on a pseudo-terminal.
    func openREPL(_ arguments: [String] = [], environment: [String: String] = [:]) throws -> PseudoTerminal {
        try PseudoTerminal(sentinelREPLExecutable, sentinelArguments + arguments + [masterName], environment: environment)
    }

    /// Our connections (named sentinel-repl) on every data node and sentinel.
    func replConnections() -> [String] { connections(named: "sentinel-repl") }
}

/// Opens the REPL (no history file, `arguments` added) on a new topology, waits for
/// its prompt, runs `body`, then types Ctrl-D and expects exit status 0 and nothing
/// on stderr.
func withREPL(
    _ options: Topology.Options = .init(), arguments: [String] = [],
    _ body: (Topology, PseudoTerminal) async throws -> Void
) async throws {
    try await withTopology(options) { topology in
        let terminal = try topology.openREPL(arguments + ["--history-file", "/dev/null"])
        defer { terminal.close() }
        #expect(terminal.waitFor("> "))
        try await body(topology, terminal)
        terminal.type("\u{4}")
        #expect(terminal.waitForExit() == 0)
        #expect(terminal.stderr.isEmpty, "stderr: \(terminal.stderr)")
    }
}

extension Topology.RunResult {
    /// stdout's lines, without the empty string after the last newline.
    var outputLines: ArraySlice<Substring> {
        stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    }
}

/// How many times `command` ran on the node at `port` (INFO commandstats; 0 when never).
func commandCalls(_ topology: Topology, _ port: Int, _ command: String) throws -> Int {
    let stats = try topology.cli(port, "INFO", "commandstats")
    // INFO's lines end in CR LF: one Character, which split(separator: "\n") would not split at.
    guard let line = stats.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_\(command):calls=") }) else { return 0 }
    return Int(line.dropFirst("cmdstat_\(command):calls=".count).prefix { $0.isNumber }) ?? 0
}

func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

extension Topology {
    /// Makes replica `port` the master and the old master its replica, by hand
    /// (REPLICAOF): Sentinel still names the old master. First the replica catches up
    /// to the master's replication offset, so it holds every write made so far.
    func promoteByHand(_ port: Int) async throws {
        func offset(_ port: Int, _ field: String) throws -> Substring? {
            try cli(port, "INFO", "replication").split(whereSeparator: \.isNewline)
                .first { $0.hasPrefix(field + ":") }?.split(separator: ":").last
        }
        #expect(
            try await eventually(within: 10) {
                let sent = try offset(masterPort, "master_repl_offset")
                let received = try offset(port, "slave_repl_offset")
                return sent != nil && sent == received
            }, "the replica caught up")
        #expect(try cli(port, "REPLICAOF", "NO", "ONE") == "OK\n")
        #expect(try cli(masterPort, "REPLICAOF", "127.0.0.1", String(port)) == "OK\n")
    }

    /// Has every sentinel forget the master and monitor `port` instead (SENTINEL REMOVE,
    /// MONITOR): a change of master without a failover, so no +switch-master event.
    /// (MONITOR starts from default settings: for topologies without passwords.)
    func monitorAfresh(_ port: Int) throws {
        for sentinel in sentinelPorts {
            #expect(try cli(sentinel, "SENTINEL", "REMOVE", masterName) == "OK\n")
            #expect(try cli(sentinel, "SENTINEL", "MONITOR", masterName, "127.0.0.1", String(port), "2") == "OK\n")
        }
    }
}

extension Topology {
    /// At a session's prompt on the first master, where `GET k` answers "before": runs
    /// `SENTINEL FAILOVER`, expects the switch notice and the new master's prompt, and
    /// that `SET k after` lands there. Returns the new master's port.
    @discardableResult
    func expectFollowedFailover(in terminal: PseudoTerminal, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Int {
        let old = address(of: masterPort)
        #expect(terminal.waitFor("mymaster@\(old)> ", seconds: 15), "screen: \(terminal.screen)", sourceLocation: sourceLocation)
        #expect(terminal.enter("GET k", thenPromptAfter: "\"before\""), sourceLocation: sourceLocation)
        try cli(sentinelPorts[0], "SENTINEL", "FAILOVER", masterName)
        #expect(
            terminal.waitFor("-- failover: master of mymaster moved from \(old) to ", seconds: 30), "screen: \(terminal.screen)",
            sourceLocation: sourceLocation)
        var newPort: Int?
        #expect(
            await eventually(within: 20) {
                newPort = sentinelMasterPort()
                return newPort != nil && newPort != masterPort
            }, "the sentinels name a new master", sourceLocation: sourceLocation)
        let new = try #require(newPort, sourceLocation: sourceLocation)
        #expect(terminal.waitFor("mymaster@\(address(of: new))> ", seconds: 20), "screen: \(terminal.screen)", sourceLocation: sourceLocation)
        #expect(terminal.enter("SET k after", thenPromptAfter: "OK"), sourceLocation: sourceLocation)
        #expect(try cli(new, "GET", "k") == "after\n", "the write went to the new master", sourceLocation: sourceLocation)
        return new
    }
}

/// A batch of INCR lines counted: acknowledged (an integer reply), in doubt, and what
/// the counter on the master after the faults shows applied.
struct BatchOutcome: CustomStringConvertible {
    var acknowledged: Int
    var inDoubt: Int
    var counter: Int
    var description: String { "\(acknowledged) acknowledged, \(inDoubt) in doubt, \(counter) applied on the new master" }

    /// Counts `output`, whose every line must be an integer reply or an in-doubt line.
    init<Lines: Collection>(counting output: Lines, counter: Int, sourceLocation: SourceLocation = #_sourceLocation)
    where Lines.Element: StringProtocol {
        let inDoubt = output.filter { $0.contains("may or may not have run") }
        let other = output.filter { Int($0) == nil && !$0.contains("may or may not have run") }
        #expect(other.isEmpty, "unexpected lines: \(other.prefix(5))", sourceLocation: sourceLocation)
        acknowledged = output.filter { Int($0) != nil }.count
        self.inDoubt = inDoubt.count
        self.counter = counter
    }

    /// A <= F <= A + D: no acknowledged write lost, no line run twice.
    func expectNoneLostOrRunTwice(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(acknowledged <= counter, "no acknowledged write lost: \(self)", sourceLocation: sourceLocation)
        #expect(counter <= acknowledged + inDoubt, "no line ran twice: \(self)", sourceLocation: sourceLocation)
    }
}
