import Foundation
import TestTopology
import Testing

/// Production topologies: TLS-only ones, host names announced by Sentinel, `::1` only.
@Suite(.serialized, .timeLimit(.minutes(4 * testSlowdown)))
struct DeploymentTests {
    /// On host-name, `::1` and TLS topologies: a one-shot command, then an interactive
    /// session that follows a `SENTINEL FAILOVER` and runs the next line on the new
    /// master, then Ctrl-D with exit 0, nothing on stderr and no connection of ours left
    /// on any node or sentinel (CLIENT LIST). Over TLS the certificate
    /// is checked against the name Sentinel returns: `localhost` against a certificate
    /// whose only name is DNS:localhost, `::1` and 127.0.0.1 against its IP names.
    @Test(arguments: [
        (Topology.Address.hostname, false), (.hostname, true), (.ipv6, false), (.ipv6, true), (.ipv4, true),
    ].filter { !$0.1 || Topology.serverHasTLS })
    func aCommandAndASessionThatFollowsAFailover(address: Topology.Address, tls: Bool) async throws {
        var options = Topology.Options()
        options.address = address
        options.tls = tls
        try await withTopology(options) { topology in
            let tlsArguments = tls ? ["--tls", "--sentinel-tls", "--cacert", try #require(topology.caCertificate)] : []
            let oneShot = try topology.runREPL(tlsArguments + [topology.masterName, "SET", "k", "before"])
            #expect(oneShot.status == 0 && oneShot.stdout == "OK\n" && oneShot.stderr.isEmpty, "\(oneShot)")

            let terminal = try topology.openREPL(tlsArguments + ["--history-file", "/dev/null"])
            defer { terminal.close() }
            try await topology.expectFollowedFailover(in: terminal)
            terminal.type("\u{4}")
            #expect(terminal.waitForExit() == 0)
            #expect(terminal.stderr.isEmpty, "stderr: \(terminal.stderr)")
            #expect(await eventually(within: 5) { topology.replConnections().isEmpty }, "left: \(topology.replConnections())")
        }
    }

    /// A TLS-only topology: the CA, `--insecure`, a `rediss+sentinel://` URL, and each
    /// wrong setting as one line on stderr that names the server and what failed, exit 1.
    @Test(.enabled(if: Topology.serverHasTLS, "the server has no TLS")) func tlsSettingsRightAndWrong() async throws {
        var options = Topology.Options()
        options.tls = true
        try await withTopology(options) { topology in
            let tlsDirectory = try #require(topology.tlsDirectory)
            let ca = "\(tlsDirectory)/ca.crt", otherCA = "\(tlsDirectory)/other-ca.crt"
            let sentinel = topology.address(of: topology.sentinelPorts[0])
            let master = topology.address(of: topology.masterPort)
            func run(_ arguments: [String]) throws -> Topology.RunResult {
                try Topology.run(sentinelREPLExecutable, arguments + ["PING"])
            }
            func expectPong(_ arguments: [String]) throws {
                let result = try run(arguments)
                #expect(result.status == 0 && result.stdout == "PONG\n" && result.stderr.isEmpty, "\(arguments): \(result)")
            }
            func expectOneLine(_ arguments: [String], _ parts: [String]) throws {
                let result = try run(arguments)
                #expect(result.status == 1 && result.stdout.isEmpty, "\(arguments): \(result)")
                #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
                for part in parts { #expect(result.stderr.contains(part), "\(part) in: \(result.stderr)") }
            }
            let s = ["-s", sentinel]
            try expectPong(s + ["--tls", "--sentinel-tls", "--cacert", ca, topology.masterName])
            try expectPong(s + ["--tls", "--sentinel-tls", "--insecure", topology.masterName])
            let url = "rediss+sentinel://" + topology.sentinelPorts.map { topology.address(of: $0) }.joined(separator: ",") + "/mymaster"
            try expectPong(["--cacert", ca, url])
            let hashed = "\(tlsDirectory)/hashed"
            try FileManager.default.createDirectory(atPath: hashed, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: ca, toPath: "\(hashed)/ca.pem")
            #expect(try Topology.run("/usr/bin/env", ["openssl", "rehash", hashed]).status == 0)
            try expectPong(s + ["--tls", "--sentinel-tls", "--cacertdir", hashed, topology.masterName])
            try expectOneLine(
                s + ["--tls", "--sentinel-tls", "--cacert", otherCA, topology.masterName],
                ["sentinel \(sentinel): TLS: the server's certificate is not signed by a trusted CA", "--cacert"])
            try expectOneLine(
                s + ["--tls", "--sentinel-tls", "--cacert", otherCA, "--sentinel-cacert", ca, topology.masterName],
                ["named \(master): TLS: the server's certificate is not signed by a trusted CA"])
            try expectOneLine(s + [topology.masterName], ["sentinel \(sentinel): connection lost", "--sentinel-tls"])
            try expectOneLine(s + ["--sentinel-tls", "--cacert", ca, topology.masterName], ["named \(master): connection lost", "--tls"])

            let expired = try topology.startLoneSentinel(certificate: "expired")
            defer { expired.stop() }
            try expectOneLine(
                ["-s", "127.0.0.1:\(expired.port)", "--sentinel-tls", "--cacert", ca, topology.masterName],
                ["sentinel 127.0.0.1:\(expired.port): TLS: the server's certificate expired on 2020-01-31 00:00:00 UTC"])
            let wrongName = try topology.startLoneSentinel(certificate: "wrong-name")
            defer { wrongName.stop() }
            try expectOneLine(
                ["-s", "127.0.0.1:\(wrongName.port)", "--sentinel-tls", "--cacert", ca, topology.masterName],
                ["sentinel 127.0.0.1:\(wrongName.port): TLS: the server's certificate is not valid for 127.0.0.1"])
            let plaintext = try topology.startLoneSentinel(certificate: nil)
            defer { plaintext.stop() }
            try expectOneLine(
                ["-s", "127.0.0.1:\(plaintext.port)", "--sentinel-tls", "--cacert", ca, topology.masterName],
                ["sentinel 127.0.0.1:\(plaintext.port): TLS: no handshake within", "leave out --tls or --sentinel-tls"])
            #expect(await eventually(within: 5) { topology.replConnections().isEmpty }, "left: \(topology.replConnections())")
        }
    }

    /// `tls-auth-clients yes`: without a client certificate the server ends the
    /// connection and the line says which options give one; with `--cert --key` it works.
    @Test(.enabled(if: Topology.serverHasTLS, "the server has no TLS")) func mutualTLS() async throws {
        var options = Topology.Options()
        options.tls = true
        options.requireClientCertificates = true
        try await withTopology(options) { topology in
            let tlsDirectory = try #require(topology.tlsDirectory)
            let base = ["-s", topology.address(of: topology.sentinelPorts[0]), "--tls", "--sentinel-tls", "--cacert", "\(tlsDirectory)/ca.crt"]
            let refused = try Topology.run(sentinelREPLExecutable, base + [topology.masterName, "PING"])
            #expect(refused.status == 1 && refused.stdout.isEmpty, "\(refused)")
            #expect(refused.stderr.contains("TLS: the server closed the connection"), "\(refused.stderr)")
            #expect(refused.stderr.contains("--cert and --key"), "\(refused.stderr)")
            let certificate = ["--cert", "\(tlsDirectory)/client.crt", "--key", "\(tlsDirectory)/client.key"]
            let accepted = try Topology.run(sentinelREPLExecutable, base + certificate + [topology.masterName, "PING"])
            #expect(accepted.status == 0 && accepted.stdout == "PONG\n" && accepted.stderr.isEmpty, "\(accepted)")
            #expect(await eventually(within: 5) { topology.replConnections().isEmpty }, "left: \(topology.replConnections())")
        }
    }

    /// TLS files that cannot be used are usage errors (exit 2) that name option and file.
    @Test func unusableTLSFilesAreUsageErrors() throws {
        let cases: [([String], String)] = [
            (["--tls", "--cacert", "/nonexistent/ca.crt"], "--cacert /nonexistent/ca.crt: No such file or directory"),
            (["--tls", "--cacert", "/etc/hostname"], "--cacert /etc/hostname: does not hold PEM certificates"),
            (["--cacert", "/etc/hostname"], "need --tls, --sentinel-tls or a rediss+sentinel:// URL"),
            (["--tls", "--cert", "/etc/hostname"], "--cert and --key go together"),
            (["--tls", "--cacertdir", "/etc/hostname"], "--cacertdir /etc/hostname: not a directory"),
        ]
        for (arguments, message) in cases {
            let result = try Topology.run(sentinelREPLExecutable, ["-s", "127.0.0.1:1"] + arguments + ["mymaster", "PING"])
            #expect(result.status == 2 && result.stdout.isEmpty, "\(arguments): \(result)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }
}

/// `--replica` sessions and `:use master|replica`.
@Suite(.serialized, .timeLimit(.minutes(4 * testSlowdown)))
struct ReplicaSessionTests {
    /// Reads on a replica; a write gets READONLY as is plus where the session is; `:use
    /// master` writes; `:use replica` goes back; the replica killed moves the session.
    @Test func readsWritesSwitchesAndAKilledReplica() async throws {
        var options = Topology.Options()
        options.downAfterMilliseconds = 1000
        try await withTopology(options) { topology in
            #expect(try topology.cli(topology.masterPort, "SET", "k", "v") == "OK\n")
            #expect(await eventually(within: 10) {
                topology.replicaPorts.allSatisfy { (try? topology.cli($0, "GET", "k")) == "v\n" }
            })
            let oneShot = try topology.runREPL(["--replica", topology.masterName, "ROLE"])
            #expect(oneShot.status == 0 && oneShot.outputLines.first == "slave", "\(oneShot)")
            let piped = try topology.runREPL(["--replica", topology.masterName], stdin: "GET k\nSET k w\nSET k x\n")
            #expect(piped.outputLines.count == 5, "one output line per line (an error then a blank): \(piped.stdout.debugDescription)")
            #expect(piped.outputLines.first == "v" && piped.stdout.contains("READONLY"), "\(piped.stdout)")
            #expect(piped.stderr.components(separatedBy: "which refuses writes").count == 2, "the hint once: \(piped.stderr)")

            let terminal = try topology.openREPL(["--replica", "--history-file", "/dev/null"])
            defer { terminal.close() }
            let onReplica = terminal.waitForFirst(seconds: 15) { screen -> Int? in
                guard let match = screen.firstMatch(of: #/mymaster@127\.0\.0\.1:(\d+) \(replica\)> /#) else { return nil }
                return Int(match.1)
            }
            let first = try #require(onReplica, "screen: \(terminal.screen)")
            #expect(topology.replicaPorts.contains(first))
            #expect(terminal.enter("GET k", thenPromptAfter: "\"v\""))
            #expect(terminal.enter("SET k w", thenPromptAfter: "which refuses writes"))
            #expect(terminal.screen.contains("(error) READONLY You can't write against a read only replica."))
            #expect(terminal.screen.contains("-- this session is on replica 127.0.0.1:\(first), which refuses writes: :use master"))
            #expect(try topology.cli(topology.masterPort, "GET", "k") == "v\n", "never sent to the master")
            #expect(terminal.enter(":use master", thenPromptAfter: "-- the session is on the master"))
            #expect(terminal.screen.hasSuffix("mymaster@127.0.0.1:\(topology.masterPort)> "), "screen: \(terminal.screen)")
            #expect(terminal.enter("SET k w", thenPromptAfter: "OK"))
            let other = try #require(topology.replicaPorts.first { $0 != first })
            #expect(terminal.enter(":use replica 127.0.0.1:\(other)", thenPromptAfter: "-- the session is on replica 127.0.0.1:\(other)"))
            #expect(terminal.screen.hasSuffix("mymaster@127.0.0.1:\(other) (replica)> "), "screen: \(terminal.screen)")
            #expect(await eventually(within: 10) { (try? topology.cli(other, "GET", "k")) == "w\n" })
            kill(try #require(topology.pid(ofPort: other)), SIGKILL)
            #expect(
                terminal.waitFor("-- replica 127.0.0.1:\(other) is down (Sentinel's +sdown); the session moves to replica 127.0.0.1:\(first)", seconds: 20),
                "screen: \(terminal.screen)")
            #expect(terminal.enter("GET k", thenPromptAfter: "\"w\""))
            #expect(terminal.screen.hasSuffix("mymaster@127.0.0.1:\(first) (replica)> "), "screen: \(terminal.screen)")
            terminal.type("\u{4}")
            #expect(terminal.waitForExit() == 0)
            #expect(terminal.stderr.isEmpty, "stderr: \(terminal.stderr)")
            #expect(await eventually(within: 5) { topology.replConnections().isEmpty }, "left: \(topology.replConnections())")
        }
    }

    /// The replica in use is promoted by a failover: the session moves to another replica,
    /// and stays there through Sentinel's reconfiguration of it.
    @Test func aPromotedReplicaMovesTheSession() async throws {
        try await withTopology { topology in
            let promoted = topology.replicaPorts[0]
            // Sentinel promotes the replica with the lowest replica-priority.
            try topology.cli(promoted, "CONFIG", "SET", "replica-priority", "1")
            try topology.cli(topology.replicaPorts[1], "CONFIG", "SET", "replica-priority", "100")
            let terminal = try topology.openREPL(["--replica", "--history-file", "/dev/null"])
            defer { terminal.close() }
            #expect(terminal.waitFor("(replica)> ", seconds: 15))
            #expect(terminal.enter(":use replica 127.0.0.1:\(promoted)", thenPromptAfter: "-- the session is on replica 127.0.0.1:\(promoted)"))
            try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName)
            let moved = terminal.waitForFirst(seconds: 30) { screen -> Int? in
                guard let match = screen.firstMatch(of: #/-- replica 127\.0\.0\.1:\d+ was promoted to master; the session moves to replica 127\.0\.0\.1:(\d+)/#) else { return nil }
                return Int(match.1)
            }
            let next = try #require(moved, "screen: \(terminal.screen)")
            #expect(next != promoted)
            // Sentinel then reconfigures that replica, killing its clients: the next
            // command reconnects to it (its link comes up again within moments).
            #expect(
                try await eventually(within: 30) {
                    guard let master = topology.sentinelMasterPort(), master != topology.masterPort else { return false }
                    let info = try topology.cli(next, "INFO", "replication").split(whereSeparator: \.isNewline)
                    return info.contains("master_port:\(master)") && info.contains("master_link_status:up")
                }, "Sentinel reconfigured replica \(next)")
            #expect(terminal.enter("ROLE", thenPromptAfter: "1) \"slave\"", seconds: 15), "screen: \(terminal.screen)")
            #expect(terminal.screen.hasSuffix("mymaster@127.0.0.1:\(next) (replica)> "), "screen: \(terminal.screen)")
            terminal.type("\u{4}")
            #expect(terminal.waitForExit() == 0)
            #expect(terminal.stderr.isEmpty, "stderr: \(terminal.stderr)")
            #expect(await eventually(within: 5) { topology.replConnections().isEmpty }, "left: \(topology.replConnections())")
        }
    }
}
