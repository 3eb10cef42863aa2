import Foundation
import TestTopology
import Testing

/// `--natmap`: every data node behind a TCP forwarder (as an SSH tunnel or a published
/// container port puts it), the map naming each forwarder. Nothing reaches a data node
/// but through its forwarder; the sentinels given with `-s` are dialled as given.
@Suite(.serialized, .timeLimit(.minutes(4 * testSlowdown)))
struct AddressMapEndToEndTests {
    /// `--natmap NODE=FORWARDER` for each node.
    private func natmap(_ forwarders: Forwarders) -> [String] {
        forwarders.ports.sorted { $0.key < $1.key }.flatMap { ["--natmap", "\($0.key)=\(forwarders.host):\($0.value)"] }
    }

    /// Connections each data node accepted so far (INFO stats; the INFO's own included).
    private func connectionsReceived(_ topology: Topology) throws -> [Int: Int] {
        var received: [Int: Int] = [:]
        for port in topology.dataPorts {
            let stats = try topology.cli(port, "INFO", "stats")
            received[port] = stats.split(whereSeparator: \.isNewline).first { $0.hasPrefix("total_connections_received:") }
                .flatMap { Int($0.split(separator: ":")[1]) }
        }
        return received
    }

    /// Runs `body` and expects each node's new connections to be its forwarder's, and
    /// the one INFO that counts them after: a connection made around the map shows.
    private func expectEveryConnectionForwarded(
        _ topology: Topology, _ forwarders: Forwarders, _ what: String, _ body: () throws -> Void
    ) throws {
        let receivedBefore = try connectionsReceived(topology)
        let forwardedBefore = forwarders.connectionCounts()
        try body()
        let receivedAfter = try connectionsReceived(topology)
        let forwardedAfter = forwarders.connectionCounts()
        var forwardedAny = false
        for port in topology.dataPorts {
            let node = topology.address(of: port)
            let forwarded = (forwardedAfter[node] ?? 0) - (forwardedBefore[node] ?? 0)
            forwardedAny = forwardedAny || forwarded > 0
            let received = (receivedAfter[port] ?? 0) - (receivedBefore[port] ?? 0)
            #expect(received == forwarded + 1, "\(what): node \(node) accepted \(received) connections, \(forwarded) forwarded")
        }
        #expect(forwardedAny, "\(what) went through a forwarder")
    }

    /// Plaintext on 127.0.0.1; TLS with `localhost` announced (the certificate names
    /// localhost only); TLS with 127.0.0.1 announced and the forwarders on 127.0.0.2 (the
    /// certificate names 127.0.0.1 and ::1, not 127.0.0.2). The check is against the
    /// announced name or IP, not the forwarder's address.
    @Test(arguments: [(Topology.Address.ipv4, false), (.hostname, true), (.ipv4, true)].filter { !$0.1 || Topology.serverHasTLS })
    func aSessionAReplicaSessionAndAFollowedFailoverGoThroughTheMap(address: Topology.Address, tls: Bool) async throws {
        var options = Topology.Options()
        options.address = address
        options.tls = tls
        try await withTopology(options) { topology in
            let nodes = topology.dataPorts.map { topology.address(of: $0) }
            let forwarders = try Forwarders(to: nodes, in: topology.directory, listenHost: address == .ipv4 && tls ? "127.0.0.2" : nil)
            defer { forwarders.stop() }
            let tlsArguments = tls ? ["--tls", "--sentinel-tls", "--cacert", try #require(topology.caCertificate)] : []
            let map = tlsArguments + natmap(forwarders)

            try expectEveryConnectionForwarded(topology, forwarders, "a one-shot SET") {
                let set = try topology.runREPL(map + [topology.masterName, "SET", "k", "before"])
                #expect(set.status == 0 && set.stdout == "OK\n" && set.stderr.isEmpty, "\(set)")
            }
            try expectEveryConnectionForwarded(topology, forwarders, "a replica session") {
                let read = try topology.runREPL(map + ["--replica", topology.masterName], stdin: "ROLE\nGET k\n")
                #expect(read.status == 0 && read.stderr.isEmpty, "\(read)")
                #expect(read.outputLines.first == "slave" && read.outputLines.last == "before", "\(read)")
            }

            let terminal = try topology.openREPL(map + ["--history-file", "/dev/null"])
            defer { terminal.close() }
            let bypass = BypassWatch(pid: terminal.pid, dataPorts: topology.dataPorts)
            defer { _ = bypass.stop() }

            let old = topology.address(of: topology.masterPort)
            let oldForwarder = "\(forwarders.host):\(try #require(forwarders.ports[old]))"
            #expect(terminal.waitFor("mymaster@\(old)> ", seconds: 15), "the prompt shows the announced address: \(terminal.screen)")
            #expect(terminal.enter(":master", thenPromptAfter: "agreement"))
            #expect(terminal.screen.contains("address     \(old) via \(oldForwarder)\n"), "screen: \(terminal.screen)")
            #expect(terminal.enter(":replicas", thenPromptAfter: "ROLE"))
            for replica in topology.replicaPorts.map({ topology.address(of: $0) }) {
                #expect(terminal.screen.contains("\(replica) via \(forwarders.host):\(try #require(forwarders.ports[replica]))"), "\(replica): \(terminal.screen)")
            }
            let newPort = try await topology.expectFollowedFailover(in: terminal)
            let new = topology.address(of: newPort)
            #expect(forwarders.connectionCounts()[new] ?? 0 > 0, "the new master is reached through its forwarder: \(forwarders.connectionCounts())")

            // Every connection of ours on a data node comes from a forwarder's socket.
            let forwarder = try #require(forwarders.pid)
            func ourClients() -> [Substring] {
                topology.dataPorts.flatMap { port in
                    ((try? topology.cli(port, "CLIENT", "LIST")) ?? "").split(separator: "\n").filter { $0.contains(" name=sentinel-repl ") }
                        .compactMap { $0.split(separator: " ").first { $0.hasPrefix("addr=") } }
                }
            }
            func port(_ addr: Substring) -> Int? { addr.split(separator: ":").last.flatMap { Int($0) } }
            let ours = ourClients()
            #expect(!ours.isEmpty, "the session holds connections")
            // Listed before the forwarder's sockets are read; one gone meanwhile is left out.
            let unmatched = Set(ours.filter { !Topology.localPorts(of: forwarder).contains(port($0) ?? 0) })
            let stillThere = unmatched.intersection(ourClients()).filter { !Topology.localPorts(of: forwarder).contains(port($0) ?? 0) }
            #expect(stillThere.isEmpty, "not through a forwarder: \(stillThere)")
            terminal.type("\u{4}")
            #expect(terminal.waitForExit() == 0)
            #expect(terminal.stderr.isEmpty, "stderr: \(terminal.stderr)")
            let seen = bypass.stop()
            #expect(seen.samples >= 20 && seen.direct.isEmpty, "connections around the map: \(seen.direct) in \(seen.samples) samples")
        }
    }

    /// Through a map, an announced IP is still what the certificate must name: the master
    /// mapped to a server whose certificate names only wrong-name.invalid is refused, and
    /// the error names the announced IP.
    @Test(.enabled(if: Topology.serverHasTLS, "the server has no TLS")) func aCertificateWithoutTheAnnouncedIPIsRefusedThroughTheMap() async throws {
        var options = Topology.Options()
        options.tls = true
        try await withTopology(options) { topology in
            let wrongName = try topology.startLoneSentinel(certificate: "wrong-name")
            defer { wrongName.stop() }
            let forwarder = try Forwarders(to: ["127.0.0.1:\(wrongName.port)"], in: topology.directory, listenHost: "127.0.0.2")
            defer { forwarder.stop() }
            let master = topology.address(of: topology.masterPort)
            let result = try topology.runREPL([
                "--tls", "--sentinel-tls", "--cacert", try #require(topology.caCertificate),
                "--natmap", "\(master)=127.0.0.2:\(try #require(forwarder.ports.values.first))", topology.masterName, "PING",
            ])
            #expect(result.status == 1 && result.stdout.isEmpty, "\(result)")
            #expect(result.stderr.contains("not valid for 127.0.0.1"), "names the announced IP: \(result.stderr)")
        }
    }

    /// Replica B is reachable only through a gate that never answers the REPL (as a private
    /// address looks from outside), and the map leaves it out. A failover to B prints the
    /// address that needs an entry within the connect timeout (2 s) of the sentinels naming B.
    @Test func aFailoverToAnUnmappedNodeNamesTheMissingEntry() async throws {
        try await withTopology { topology in
            let (replicaA, replicaB) = (topology.replicaPorts[0], topology.replicaPorts[1])
            let shunnedPidFile = "\(topology.directory)/repl-outside.pid"
            let gate = try Forwarders(to: [topology.address(of: replicaB)], in: topology.directory, shunning: shunnedPidFile)
            defer { gate.stop() }
            let gatePort = try #require(gate.ports.values.first)
            try await announce(replicaB, at: gatePort, replicaA: replicaA, in: topology)

            let forwarders = try Forwarders(to: [topology.masterPort, replicaA].map { topology.address(of: $0) }, in: topology.directory)
            defer { forwarders.stop() }
            let terminal = try topology.openREPL(natmap(forwarders) + ["--history-file", "/dev/null"])
            defer { terminal.close() }
            try "\(terminal.pid)\n".write(toFile: shunnedPidFile, atomically: true, encoding: .utf8)
            #expect(terminal.waitFor("mymaster@127.0.0.1:\(topology.masterPort)> ", seconds: 15), "screen: \(terminal.screen)")

            try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName)
            #expect(await eventually(within: 30) { topology.sentinelMasterPort() == gatePort }, "the sentinels name B, at its gate")
            let named = ContinuousClock.now
            let missing = "127.0.0.1:\(gatePort)"
            let line = terminal.waitForFirst(seconds: 20) { screen in
                screen.split(separator: "\n").first { $0.contains(missing) && $0.contains("natmap") }
            }
            let waited = ContinuousClock.now - named
            #expect(line != nil, "a line names \(missing) and the map: \(terminal.screen)")
            // B's ROLE check is bounded by the sentinel timeout (1 s) and made once however many
            // sentinels name it; a dial by the connect timeout (2 s); 2 s more for polling.
            #expect(waited < .seconds(2 + 2), "within the connect timeout of the switch: \(waited)")
            terminal.type("\u{4}")
            #expect(terminal.waitForExit() == 0)
        }
    }

    /// Has replica `port` announce `gatePort` (REPLCONF listening-port, on a new link), gives
    /// replica A priority 0 so a failover picks B, and has the sentinels forget the old
    /// address (SENTINEL RESET) until they list A and the gate only.
    private func announce(_ port: Int, at gatePort: Int, replicaA: Int, in topology: Topology) async throws {
        #expect(try topology.cli(replicaA, "CONFIG", "SET", "replica-priority", "0") == "OK\n")
        #expect(try topology.cli(port, "CONFIG", "SET", "replica-announce-port", String(gatePort)) == "OK\n")
        try topology.cli(topology.masterPort, "CLIENT", "KILL", "TYPE", "replica")
        let listed = try await eventually(within: 10) {
            try topology.cli(topology.masterPort, "INFO", "replication").contains("port=\(gatePort),state=online")
        }
        #expect(listed, "the master lists B at its gate")
        for sentinel in topology.sentinelPorts {
            try topology.cli(sentinel, "SENTINEL", "RESET", topology.masterName)
        }
        let relearned = try await eventually(within: 20) {
            try topology.sentinelPorts.allSatisfy { sentinel in
                let replicas = try topology.cli(sentinel, "SENTINEL", "REPLICAS", topology.masterName)
                return replicas.contains("\n\(gatePort)\n") && replicas.contains("\n\(replicaA)\n") && !replicas.contains("\n\(port)\n")
                    && !replicas.contains("disconnected") && !replicas.contains("s_down")
            }
        }
        #expect(relearned, "the sentinels list A and B's gate")
    }
}

/// Samples a process's TCP connections every few milliseconds, on a thread of its own
/// (the tests' waits block the concurrency pool), and keeps any that goes to one of
/// `ports` (a node's own port, where only its forwarder should connect).
final class BypassWatch: @unchecked Sendable {
    private let pid: pid_t
    private let ports: Set<Int>
    private let lock = NSLock()
    private var samples = 0
    private var direct: Set<Int> = []
    private var stopped = false

    init(pid: pid_t, dataPorts: [Int]) {
        self.pid = pid
        self.ports = Set(dataPorts)
        Thread.detachNewThread { [self] in sample() }
    }

    private func sample() {
        while !lock.withLock({ stopped }) {
            let seen = Topology.remotePorts(of: pid).intersection(ports)
            lock.withLock {
                direct.formUnion(seen)
                samples += 1
            }
            usleep(5_000)
        }
    }

    /// Stops sampling; what it saw.
    func stop() -> (samples: Int, direct: Set<Int>) {
        lock.withLock {
            stopped = true
            return (samples, direct)
        }
    }
}
