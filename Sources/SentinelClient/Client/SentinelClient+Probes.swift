import NIOCore

/// Live probes of the topology: every sentinel's answer, the quorum, the replicas.
extension SentinelClient {
    /// Asks every known sentinel, concurrently, which master it names now.
    public func probeSentinels() async -> [SentinelProbe] {
        let discovery = makeDiscovery()
        let known = state.knownSentinels
        return await Self.concurrently(known) { info in
            var probe = SentinelProbe(address: info.address, origin: info.origin, subscribed: info.subscribed)
            do {
                let answer = try await discovery.ask(info.address)
                probe.reachable = true
                probe.latencyMicroseconds = answer.latencyMicroseconds
                probe.namedMaster = answer.master
            } catch {
                probe.error = discovery.reason(for: error).description
            }
            return probe
        }
    }

    /// `SENTINEL CKQUORUM` as the first sentinel that answers says it (`OK 3 usable
    /// Sentinels. ...` or `NOQUORUM ...`).
    public func checkQuorum() async throws(SentinelClientError) -> QuorumVerdict {
        try await fromFirstAnsweringSentinel { discovery, sentinel in
            try await discovery.checkQuorum(sentinel)
        }
    }

    /// Replicas as the first answering sentinel lists them, each checked with ROLE.
    public func probeReplicas() async throws(SentinelClientError) -> [ReplicaProbe] {
        let listed = try await fromFirstAnsweringSentinel { discovery, sentinel in
            (discovery, try await discovery.listReplicas(sentinel))
        }
        return await Self.concurrently(listed.1) { replica in
            var probe = replica
            probe.role = await listed.0.role(of: replica.address)
            return probe
        }
    }

    /// `ask` of each known sentinel in order, until one answers; else the last failure.
    func fromFirstAnsweringSentinel<T: Sendable>(
        _ ask: (Discovery, ServerAddress) async throws -> T
    ) async throws(SentinelClientError) -> T {
        let discovery = makeDiscovery()
        var lastError = SentinelClientError.noSentinelReachable(masterName: configuration.masterName, attempts: [])
        for sentinel in state.topology.sentinels.map(\.address) {
            do {
                return try await ask(discovery, sentinel)
            } catch {
                lastError = .connectFailed(address: sentinel, reason: discovery.reason(for: error), underlying: error)
            }
        }
        throw lastError
    }

    /// `transform` on every element at once; the results in the elements' order.
    static func concurrently<T: Sendable, R: Sendable>(
        _ elements: [T], _ transform: @escaping @Sendable (T) async -> R
    ) async -> [R] {
        await withTaskGroup(of: (Int, R).self) { group in
            for (index, element) in elements.enumerated() {
                group.addTask { (index, await transform(element)) }
            }
            var results: [(Int, R)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    func makeDiscovery() -> Discovery {
        Discovery(configuration: configuration, logger: logger) { [self] address, handshake, timeout, replyTimeout in
            try await self.dial(address, handshake, timeout, commandTimeout: .some(replyTimeout))
        }
    }
}
