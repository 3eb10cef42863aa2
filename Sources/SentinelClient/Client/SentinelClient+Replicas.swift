import NIOCore
import RESP

/// Replicas: which are fit to read from, connections to them, and reads on them.
extension SentinelClient {
    /// The replicas Sentinel lists for the master that are fit to read from: none of
    /// `s_down`, `o_down` or `disconnected` in their flags. In Sentinel's order.
    public func healthyReplicas() async throws(SentinelClientError) -> [ServerAddress] {
        let listed = try await fromFirstAnsweringSentinel { discovery, sentinel in
            try await discovery.listReplicas(sentinel)
        }
        return listed.filter { ReplicaFlags.fit($0.flags) }.map(\.address)
    }

    /// A new connection to `address`, with the data nodes' handshake (in `database`
    /// when given, else the configured one), once ROLE on it says replica with its link
    /// to the master up. The caller owns it and closes it (shutdown closes it too).
    public func connectToReplica(_ address: ServerAddress, database: Int? = nil) async throws(SentinelClientError)
        -> RedisConnection
    {
        var resolved: [String: Set<String>] = [:]
        return try await connectToReplica(address, database: database, resolved: &resolved)
    }

    /// A connection to the next healthy replica in turn; those in `avoided` (one that
    /// just failed) are tried only after the others. Each refusal is tried past; throws
    /// `noHealthyReplica` with every replica tried.
    public func connectToSomeReplica(avoiding avoided: Set<ServerAddress> = [], database: Int? = nil)
        async throws(SentinelClientError) -> RedisConnection
    {
        let healthy = try await healthyReplicas()
        guard !healthy.isEmpty else { throw .noHealthyReplica(masterName: configuration.masterName, tried: []) }
        let start = state.nextReplicaTurn()
        return try await connectToFirstReplica(of: healthy.indices.map { healthy[(start + $0) % healthy.count] }, avoiding: avoided, database: database)
    }

    /// A connection to the first of `ordered` whose ROLE says a healthy replica, those in
    /// `avoided` tried only after the others; throws `noHealthyReplica` with every one tried.
    /// `replyTimeout`: a bound on each reply (ROLE included) instead of the configured one.
    func connectToFirstReplica(
        of ordered: [ServerAddress], avoiding avoided: Set<ServerAddress>, database: Int?, replyTimeout: TimeAmount?? = nil
    ) async throws(SentinelClientError) -> RedisConnection {
        var tried: [(ServerAddress, FailureReason)] = []
        var resolved: [String: Set<String>] = [:]
        for address in ordered.filter({ !avoided.contains($0) }) + ordered.filter({ avoided.contains($0) }) {
            do {
                return try await connectToReplica(address, database: database, replyTimeout: replyTimeout, resolved: &resolved)
            } catch {
                tried.append((address, error.reason ?? .other(error.description)))
            }
        }
        throw .noHealthyReplica(masterName: configuration.masterName, tried: tried)
    }

    /// Runs `command` where `readFrom` says: on the master as `execute(_:)` does, or on
    /// a healthy replica (one connection, kept while it serves; a command that was not
    /// sent, or a read-only one whose reply was lost, goes to the next replica once), or
    /// on a replica if one is healthy and else the master. A replica refuses writes (`READONLY`) and may lag behind the master.
    public func execute(_ command: RESPCommand, readFrom: ReadFrom) async throws(SentinelClientError) -> RESPValue {
        switch readFrom {
        case .master:
            return try await execute(command)
        case .replica:
            return try await executeOnReplica(command)
        case .replicaPreferred:
            do {
                return try await executeOnReplica(command)
            } catch where error.code == .noHealthyReplica || error.code == .noSentinelReachable {
                return try await execute(command)
            }
        }
    }

    private func executeOnReplica(_ command: RESPCommand) async throws(SentinelClientError) -> RESPValue {
        var failed: Set<ServerAddress> = []
        while true {
            let connection = try await readReplicaConnection(avoiding: failed)
            do {
                return try await connection.send(command)
            } catch {
                perform(state.readFailed(on: connection))
                guard failed.isEmpty, await mayResend(command, after: error) else { throw error }
                failed.insert(connection.address)
            }
        }
    }

    private func readReplicaConnection(avoiding failed: Set<ServerAddress>) async throws(SentinelClientError)
        -> RedisConnection
    {
        let (serving, dropped) = state.servingReadReplica()
        perform(dropped)
        if let serving { return serving }
        let fresh = try await connectToSomeReplica(avoiding: failed)
        let (kept, actions) = state.readReplicaConnected(fresh)
        perform(actions)
        return kept
    }

    private func connectToReplica(
        _ address: ServerAddress, database: Int?, replyTimeout: TimeAmount?? = nil, resolved: inout [String: Set<String>]
    ) async throws(SentinelClientError) -> RedisConnection {
        var handshake = configuration.dataHandshake
        if let database { handshake.database = database }
        let connection = try await dial(address, handshake, configuration.connectTimeout, commandTimeout: replyTimeout)
        let parsed: Result<ServerRole, FailureReason>
        do {
            parsed = ServerRole.parse(try await connection.send(RESPCommand("ROLE")))
        } catch {
            connection.close(reason: "ROLE failed")
            throw .connectFailed(address: address, reason: error.reason ?? .other("\(error)"), underlying: error)
        }
        let role: ServerRole
        switch parsed {
        case .success(let answer): role = answer
        case .failure(let reason):
            connection.close(reason: "ROLE failed")
            throw .connectFailed(address: address, reason: reason)
        }
        if case .replica(let master, let link, _) = role, link == "connected", await replicates(from: master, resolved: &resolved) {
            return connection
        }
        connection.close(reason: "not a healthy replica")
        throw .connectFailed(address: address, reason: .notAHealthyReplica(role: "\(role)"))
    }

    /// Whether a replica's master (as its ROLE names it) is the master in use, or the one
    /// the last failover replaced (until Sentinel reconfigures the replica). One side may
    /// spell the host as a name and the other as an address (or as another name): then
    /// they are the same host when they resolve to a common address. A name this host
    /// cannot resolve (a cluster-internal name seen from a bastion host), or not within the
    /// connect timeout, leaves the port to decide.
    /// `resolved` keeps the lookups of one search for a replica, each name looked up once.
    private func replicates(from master: ServerAddress, resolved: inout [String: Set<String>]) async -> Bool {
        guard state.topology.master != nil else { return true }
        if mastersInUse.contains(master) { return true }
        guard mastersInUse.contains(where: { $0.port == master.port }) else { return false }
        let named = await addresses(of: master.host, resolved: &resolved)
        // Read after the lookup: a failover may have installed another master meanwhile.
        var unresolved = named.isEmpty
        for candidate in mastersInUse where candidate.port == master.port {
            let addresses = await addresses(of: candidate.host, resolved: &resolved)
            if !named.isDisjoint(with: addresses) { return true }
            unresolved = unresolved || addresses.isEmpty
        }
        if unresolved {
            logger.debug("a master's host name did not resolve in time: the port decides", metadata: ["named": "\(master)"])
        }
        return unresolved
    }

    private var mastersInUse: [ServerAddress] { [state.topology.master?.address, state.topology.replacedMaster].compactMap { $0 } }

    private func addresses(of host: String, resolved: inout [String: Set<String>]) async -> Set<String> {
        if let known = resolved[host] { return known }
        let found = await HostAddresses.of(host, within: configuration.connectTimeout)
        resolved[host] = found
        return found
    }
}
