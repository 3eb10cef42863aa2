import Foundation
import TestTopology
import Testing

extension Topology {
    /// `-s` arguments for every sentinel, in order.
    var sentinelArguments: [String] { sentinelPorts.flatMap { ["-s", "127.0.0.1:\($0)"] } }

    /// Runs sentinel-repl on this topology with `stdin` as its input.
    func runREPL(_ arguments: [String], stdin: String = "") throws -> Topology.RunResult {
        let input = NSTemporaryDirectory() + "repl-input-\(UInt32.random(in: 0...UInt32.max))"
        try stdin.write(toFile: input, atomically: true, encoding: .utf8)
        defer { unlink(input) }
        return try Topology.run("/bin/bash", ["-c", "\(replCommandLine(arguments)) < \(shellQuoted(input))"])
    }

    /// Runs sentinel-repl on this topology's master in the background, its stdin the
    /// output of the shell commands `feed`.
    func runREPL(fedBy feed: String) -> Task<Topology.RunResult, Error> {
        let command = "(\(feed)) | \(replCommandLine([masterName]))"
        return Task.detached { try Topology.run("/bin/bash", ["-c", command]) }
    }

    private func replCommandLine(_ arguments: [String]) -> String {
        ([sentinelREPLExecutable] + sentinelArguments + arguments).map(shellQuoted).joined(separator: " ")
    }

    /// The id of our connection on the master once CLIENT LIST shows `field` for it
    /// (" cmd=blpop ", " multi=1 ").
    func replClientID(showing field: String) async throws -> String {
        var clients: [Substring] = []
        for _ in 0..<100 {
            clients = try cli(masterPort, "CLIENT", "LIST").split(separator: "\n")
            if let line = clients.first(where: { $0.contains(" name=sentinel-repl ") && $0.contains(field) }),
                let id = line.split(separator: " ").first(where: { $0.hasPrefix("id=") })
            {
                return String(id.dropFirst(3))
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        Issue.record("no client showing '\(field)' in: \(clients)")
        throw CancellationError()
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
    func replConnections() -> [String] {
        (dataPorts + sentinelPorts).flatMap { port in
            ((try? cli(port, "CLIENT", "LIST")) ?? "").split(separator: "\n").map(String.init)
                .filter { $0.contains(" name=sentinel-repl ") }
        }
    }
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
