import NIOConcurrencyHelpers
import NIOCore

/// Every connection the client opened and has not seen closed, so that
/// shutdown can close them all and wait, and nothing is dialled after it.
final class ConnectionRegistry: Sendable {
    private struct State {
        var open: [ObjectIdentifier: RedisConnection] = [:]
        /// Not closed with an old master (a coordinated failover's own connections).
        var keptOnMasterChange: Set<ObjectIdentifier> = []
        var closed = false
    }

    private let state = NIOLockedValueBox(State())

    /// False when the registry is closed: the caller must close the connection.
    /// `keptOnMasterChange`: `close(to:)` leaves it open; shutdown closes it.
    func add(_ connection: RedisConnection, keptOnMasterChange: Bool = false) -> Bool {
        let id = ObjectIdentifier(connection)
        let added = state.withLockedValue { state in
            guard !state.closed else { return false }
            state.open[id] = connection
            if keptOnMasterChange { state.keptOnMasterChange.insert(id) }
            return true
        }
        if added {
            connection.channel.closeFuture.whenComplete { [state] _ in
                state.withLockedValue { state in
                    state.open.removeValue(forKey: id)
                    state.keptOnMasterChange.remove(id)
                }
            }
        }
        return added
    }

    var count: Int { state.withLockedValue { $0.open.count } }

    /// Closes every open connection to `address` (a master that is no longer the master).
    func close(to address: ServerAddress, reason: String) {
        let matching = state.withLockedValue { state in
            state.open.filter { $0.value.address == address && !state.keptOnMasterChange.contains($0.key) }.map(\.value)
        }
        for connection in matching { connection.close(reason: reason) }
    }

    /// Refuses new connections, closes the open ones and waits until each is closed.
    func closeAll(reason: String) async {
        let open = state.withLockedValue { state in
            state.closed = true
            return Array(state.open.values)
        }
        for connection in open { connection.close(reason: reason) }
        for connection in open { await connection.waitUntilClosed() }
    }
}
