import NIOCore
import RESP
import SentinelClient

/// `:master`, `:pool`, `:sentinels`, `:replicas`, `:help`: what redis-cli cannot
/// show. Each report is asked of the client when it is run; nothing is kept.
struct MetaCommands: Sendable {
    let client: SentinelClient
    let masterName: String

    /// The report of meta-command `name` (`:master`, ...), ready to print.
    func run(_ name: String) async -> String {
        switch name {
        case ":master": return await masterReport()
        case ":pool": return await poolReport()
        case ":sentinels": return await sentinelsReport()
        case ":replicas": return await replicasReport()
        case ":help": return Self.metaHelp
        default: return "Unknown meta-command \(name); :help lists them.\n"
        }
    }

    static let metaHelp = """
        :master     the master: address, ROLE now, the sentinel that answered, how many agree
        :pool       the connection pool: master and generation, idle/leased/max, totals, last error
        :sentinels  every known sentinel: reachable, latency, the master it names, subscribed
        :replicas   replicas as Sentinel lists them, with flags and ROLE on each
        :events     on|raw|off: a failover's steps in plain words, each once (on), Sentinel's own messages (raw), or none
        :use        master|replica [host:port]: where the commands go (a replica is read-only)
        :failover   a failover that loses no acknowledged write: shows the plan, asks, runs, sums up
        :safe       on|off: whether FLUSHALL, SHUTDOWN, CONFIG SET... (and huge KEYS/SMEMBERS) ask first
        :help       this list
        :quit       leave (also quit, exit, Ctrl-D)

        """

    func masterReport() async -> String {
        guard let master = await client.master else { return "no verified master for \(masterName)\n" }
        let probes = await client.probeSentinels()
        let answered = probes.filter(\.reachable)
        let agreeing = answered.filter { $0.namedMaster == master.address }.count
        let role: String
        switch (try? await client.execute(RESPCommand("ROLE"))).map(ServerRole.parse) {
        case .success(let now)?: role = now.description
        case .failure(let reason)?: role = "ROLE failed: \(reason)"
        case nil: role = "ROLE could not be read now"
        }
        let known = Double((NIODeadline.now() - master.knownSince).nanoseconds) / 1e9
        return """
            name        \(master.name)
            address     \(shown(master.address))
            role        \(role)
            answered by sentinel \(master.answeredBy)
            agreement   \(agreeing) of \(probes.count) sentinels name this master (\(answered.count) answered)
            known for   \(SessionPresentation.twoDecimals(known)) s
            failovers   \(await client.failoversFollowed) followed in this session

            """
    }

    func poolReport() async -> String {
        let pool = await client.poolSnapshot
        return """
            master      \(pool.master.map { "\($0)" } ?? "none") (generation \(pool.generation))
            connections \(pool.idle) idle, \(pool.leased) leased, \(pool.dialling) dialling, \(pool.maxSize) max
            waiting     \(pool.waiting)
            totals      \(pool.dialledTotal) dialled, \(pool.closedTotal) closed
            last error  \(pool.lastError ?? "none")

            """
    }

    /// An address Sentinel named, and where `--natmap` dials it when that is elsewhere.
    func shown(_ address: ServerAddress) -> String {
        let dialled = client.dialTarget(for: address)
        return dialled == address ? "\(address)" : "\(address) via \(dialled)"
    }

    func sentinelsReport() async -> String {
        let probes = await client.probeSentinels()
        var lines = ["address               reachable  latency   names master           subscribed  origin"]
        for probe in probes {
            let latency = probe.latencyMicroseconds.map { "\(SessionPresentation.twoDecimals(Double($0) / 1000)) ms" } ?? "-"
            let names = probe.namedMaster.map { "\($0)" } ?? (probe.error ?? "-")
            lines.append(
                [
                    shown(probe.address).padded(22), (probe.reachable ? "yes" : "no").padded(11),
                    latency.padded(10), names.padded(23), (probe.subscribed ? "yes" : "no").padded(12),
                    probe.origin.rawValue,
                ].joined())
        }
        lines.append(await quorumLine())
        return lines.joined(separator: "\n") + "\n"
    }

    /// `quorum      OK 3 usable Sentinels. ... (asked 127.0.0.1:26379)`
    private func quorumLine() async -> String {
        do {
            return "quorum      \(try await client.checkQuorum())"
        } catch {
            return "quorum      could not be checked: \(error)"
        }
    }

    func replicasReport() async -> String {
        do {
            let replicas = try await client.probeReplicas()
            guard !replicas.isEmpty else { return "Sentinel lists no replicas for \(masterName)\n" }
            return replicas.map { replica in
                "\(shown(replica.address).padded(22))flags \(replica.flags.padded(12))offset \(replica.offset.map(String.init) ?? "-")  ROLE: \(replica.role)"
            }.joined(separator: "\n") + "\n"
        } catch {
            return "could not list replicas: \(error)\n"
        }
    }
}

extension String {
    func padded(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
