import NIOCore
import RESP

/// Keyspace scans through Sentinel: see `KeyScan`.
extension SentinelClient {
    /// A scan of the keyspace (the configured database) from `cursor`, on `source`: by
    /// default a healthy replica, so that the scan does not load the master.
    nonisolated public func scan(
        source: ScanSource = .replica, match: [UInt8]? = nil, count: Int? = nil, type: String? = nil, from cursor: String = "0"
    ) -> KeyScan {
        KeyScan(client: self, source: source, match: match, count: count, type: type, from: cursor)
    }

    /// The replicas fit to scan or read from, the most up to date first: Sentinel's
    /// flags clear of `s_down`, `o_down` and `disconnected`, `master-link-status` ok,
    /// ordered by `slave-repl-offset` (as the first sentinel that answers lists them).
    public func replicasByLag() async throws(SentinelClientError) -> [ServerAddress] {
        let listed = try await fromFirstAnsweringSentinel { discovery, sentinel in try await discovery.listReplicas(sentinel) }
        return listed.filter { ReplicaFlags.fit($0.flags) && $0.masterLinkUp != false }
            .sorted { ($0.offset ?? -1) > ($1.offset ?? -1) }
            .map(\.address)
    }

    /// A new connection for a scan, whose replies are bounded by `KeyScan.replyTimeout` (a
    /// node stopped or hung is left for the next): to the least lagging healthy replica whose ROLE
    /// agrees (those in `avoided`, which failed the scan, only after the others), or to
    /// the master in use (after a failover, the new one).
    func connectForScan(_ source: ScanSource, avoiding avoided: Set<ServerAddress>) async throws(SentinelClientError) -> RedisConnection {
        switch source {
        case .master:
            let lease = try await lease()
            release(lease, healthy: lease.connection.isActive)
            return try await dial(
                lease.connection.address, configuration.dataHandshake, configuration.connectTimeout, commandTimeout: .some(KeyScan.replyTimeout))
        case .replica:
            return try await connectToFirstReplica(
                of: try await replicasByLag(), avoiding: avoided, database: nil, replyTimeout: .some(KeyScan.replyTimeout))
        }
    }
}
