import NIOCore
import NIOPosix
import RESP

/// The replies to commands written by `RedisConnection.submit`, not yet waited for.
public struct PendingReplies: Sendable {
    let connection: RedisConnection
    let future: EventLoopFuture<[Result<RESPValue, SentinelClientError>]>

    /// One result per command, in order. Cancelling the task closes the connection
    /// with `cancelReason`: the replies not read yet fail in doubt.
    public func get(cancelReason: String = "cancelled") async -> [Result<RESPValue, SentinelClientError>] {
        let connection = self.connection
        return await withTaskCancellationHandler {
            (try? await future.get()) ?? []
        } onCancel: {
            connection.close(reason: cancelReason)
        }
    }
}
