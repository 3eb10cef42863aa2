import NIOCore
import RESP

/// Following a promotion: from Sentinel's choice of a replica, commands are held;
/// when ROLE on the candidate says master the client switches to it, ahead of Sentinel.
extension SentinelClient {
    /// Follows each promotion Sentinel starts for our master, one at a time, until cancelled.
    func promotionLoop() async {
        for await _ in promotionWakes.stream {
            guard let promotion = state.heldPromotion else { continue }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.sampleOffsets(of: promotion) }
                await followPromotion(promotion)
                group.cancelAll()
            }
        }
    }

    /// Asks ROLE of the candidate until it says master, then switches to it; commands
    /// are held meanwhile. Gives up after `promotionWaitTimeout` (commands go to the old
    /// master again), or when Sentinel aborts (`releaseHold`). ROLE goes over one kept
    /// connection, every `promotionPollInterval`; Sentinel's promotion closes it (`CLIENT
    /// KILL TYPE normal`), and a new one is dialled at once.
    private func followPromotion(_ promotion: Promotion) async {
        let deadline = promotion.since + configuration.promotionWaitTimeout
        logger.info("commands held: following a promotion", metadata: ["candidate": "\(promotion.candidate)", "master": "\(promotion.old)"])
        var probe: RedisConnection?
        var redialled = false
        defer { probe?.close(reason: "promotion followed") }
        while !Task.isCancelled, state.isFollowing(promotion), NIODeadline.now() < deadline {
            if probe?.isActive != true {
                // The data nodes' reply timeout: the probe that sees master joins the pool.
                probe = try? await dial(promotion.candidate, configuration.dataHandshake, configuration.sentinelTryTimeout)
            }
            if let connection = probe, let role = await masterRole(on: connection) {
                probe = nil
                return await switchEarly(promotion, role: role, connection: connection)
            }
            // A probe closed by the promotion (CLIENT KILL) is dialled again at once, once;
            // a candidate that refuses connections is tried less often.
            let closed = probe.map { !$0.isActive } ?? false
            let pause = probe == nil ? max(configuration.promotionPollInterval, .milliseconds(50)) : configuration.promotionPollInterval
            if closed && !redialled {
                redialled = true
            } else {
                try? await Task.sleep(nanoseconds: UInt64(pause.nanoseconds))
            }
        }
        let reason = "\(promotion.candidate) did not report master within \(configuration.promotionWaitTimeout)"
        perform(state.promotionTimedOut(promotion, reason: reason))
    }

    /// ROLE within `sentinelTryTimeout` (past it the connection is closed); nil unless master.
    private func masterRole(on connection: RedisConnection) async -> MasterRole? {
        let reply = try? await withDeadline(configuration.sentinelTryTimeout) { try await connection.send(RESPCommand("ROLE")) }
        guard let reply, case .success(.master(let role)) = ServerRole.parse(reply) else { return nil }
        return role
    }

    /// ROLE on the candidate said master (on `connection`): it becomes the master in use,
    /// ahead of Sentinel.
    private func switchEarly(_ promotion: Promotion, role: MasterRole, connection: RedisConnection) async {
        let promotedAt = await promotionOffset(on: connection)
        if state.isFollowing(promotion) {
            logger.notice("promoted replica verified by ROLE: switching ahead of +switch-master", metadata: ["master": "\(promotion.candidate)"])
        }
        perform(state.promotedEarly(promotion, role: role, connection: connection, promotedAt: promotedAt, now: .now()))
    }

    /// While commands are held, the old master's replication offset (ROLE), so that the
    /// switch can tell whether writes it acknowledged missed the new master. A master that
    /// does not answer is simply not sampled.
    private func sampleOffsets(of promotion: Promotion) async {
        guard
            let connection = try? await dial(
                promotion.old, configuration.dataHandshake, configuration.sentinelTryTimeout,
                commandTimeout: .some(configuration.sentinelTryTimeout))
        else { return }
        defer { connection.close(reason: "offset sampling done") }
        while !Task.isCancelled, state.isFollowing(promotion) {
            guard let reply = try? await connection.send(RESPCommand("ROLE")),
                case .success(.master(let role)) = ServerRole.parse(reply),
                state.sampled(offset: role.replicationOffset, during: promotion)
            else { return }
            try? await Task.sleep(nanoseconds: UInt64(configuration.promotionPollInterval.nanoseconds))
        }
    }
}
