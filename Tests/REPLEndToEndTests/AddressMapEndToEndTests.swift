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
        forwarders.ports.sorted { $0.key < $1.key }.flatMap { ["--natmap", "\($0.key)=127.0.0.1:\($0.value)"] }
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

    /// Plaintext on 127.0.0.1, and TLS with `localhost` announced: the certificate names
    /// localhost only, so the check is against the announced name, not the forwarder's address.
    @Test(arguments: [(Topology.Address.ipv4, false), (.hostname, true)].filter { !$0.1 || Topology.serverHasTLS })
    func aSessionAReplicaSessionAndAFollowedFailoverGoThroughTheMap(address: Topology.Address, tls: Bool) async throws {
        var options = Topology.Options()
        options.address = address
        options.tls = tls
        try await withTopology(options) { topology in
            let nodes = topology.dataPorts.map { topology.address(of: $0) }
            let forwarders = try Forwarders(to: nodes, in: topology.directory)
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
            let watching = Task.detached { await bypass.run() }
            defer { watching.cancel() }

            let old = topology.address(of: topology.masterPort)
            let oldForwarder = "127.0.0.1:\(try #require(forwarders.ports[old]))"
            #expect(terminal.waitFor("mymaster@\(old)> ", seconds: 15), "the prompt shows the announced address: \(terminal.screen)")
            #expect(terminal.enter(":master", thenPromptAfter: "agreement"))
            #expect(terminal.screen.contains("address     \(old) via \(oldForwarder)\n"), "screen: \(terminal.screen)")
            #expect(terminal.enter(":replicas", thenPromptAfter: "ROLE"))
            for replica in topology.replicaPorts.map({ topology.address(of: $0) }) {
                #expect(terminal.screen.contains("\(replica) via 127.0.0.1:\(try #require(forwarders.ports[replica]))"), "\(replica): \(terminal.screen)")
            }
            #expect(terminal.enter("GET k", thenPromptAfter: "\"before\""))

            try topology.cli(topology.sentinelPorts[0], "SENTINEL", "FAILOVER", topology.masterName)
            #expect(terminal.waitFor("-- failover: master of mymaster moved from \(old) to ", seconds: 30), "screen: \(terminal.screen)")
            var newPort: Int?
            #expect(
                await eventually(within: 20) {
                    newPort = topology.sentinelMasterPort()
                    return newPort != nil && newPort != topology.masterPort
                }, "the sentinels name a new master")
            let new = topology.address(of: try #require(newPort))
            #expect(terminal.waitFor("mymaster@\(new)> ", seconds: 20), "screen: \(terminal.screen)")
            let forwardedToNew = forwarders.connectionCounts()[new] ?? 0
            #expect(terminal.enter("SET k after", thenPromptAfter: "OK"))
            #expect(try topology.cli(try #require(newPort), "GET", "k") == "after\n", "the write went to the new master")
            #expect(forwardedToNew > 0, "the new master is reached through its forwarder: \(forwarders.connectionCounts())")

            // Every connection of ours on a data node comes from a forwarder's socket.
            let forwarderPorts = Topology.localPorts(of: try #require(forwarders.pid))
            let ours = topology.dataPorts.flatMap { port in
                ((try? topology.cli(port, "CLIENT", "LIST")) ?? "").split(separator: "\n").filter { $0.contains(" name=sentinel-repl ") }
            }
            #expect(!ours.isEmpty, "the session holds connections")
            for client in ours {
                let port = client.split(separator: " ").first { $0.hasPrefix("addr=") }?.split(separator: ":").last.flatMap { Int($0) }
                #expect(port.map(forwarderPorts.contains) == true, "not through a forwarder: \(client)")
            }
            terminal.type("\u{4}")
            #expect(terminal.waitForExit() == 0)
            #expect(terminal.stderr.isEmpty, "stderr: \(terminal.stderr)")
            watching.cancel()
            let seen = await bypass.seen
            #expect(seen.samples > 20 && seen.direct.isEmpty, "connections around the map: \(seen.direct) in \(seen.samples) samples")
        }
    }
}

/// Samples a process's TCP connections every few milliseconds and keeps any that goes
/// to a data node's own port.
actor BypassWatch {
    let pid: pid_t
    let dataPorts: [Int]
    private(set) var seen: (samples: Int, direct: Set<Int>) = (0, [])

    init(pid: pid_t, dataPorts: [Int]) {
        self.pid = pid
        self.dataPorts = dataPorts
    }

    func run() async {
        while !Task.isCancelled {
            for port in dataPorts where !Topology.sockets(of: pid, connectedTo: port).isEmpty {
                seen.direct.insert(port)
            }
            seen.samples += 1
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
