import Logging
import NIOCore
import RESP

struct DeadlineExceeded: Error {
    /// What the operation threw once cut short (a TLS handshake says it timed out).
    var lateError: (any Error)?
}

/// Runs `operation`, giving up after `timeout`: the operation is cancelled,
/// which closes any connection it is waiting on. A value the operation still
/// produces after the deadline goes to `discardLate` (to close a connection it
/// holds), never nowhere.
func withDeadline<T: Sendable>(
    _ timeout: TimeAmount, discardLate: @escaping @Sendable (T) -> Void = { _ in },
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(nanoseconds: UInt64(max(0, timeout.nanoseconds)))
            return nil
        }
        let first: T??
        do { first = try await group.next() } catch {
            group.cancelAll()
            throw error
        }
        if let first, let value = first {
            group.cancelAll()
            return value
        }
        // The deadline came first: whatever the operation still returns is discarded.
        group.cancelAll()
        var lateError: (any Error)?
        while true {
            do {
                guard let late = try await group.next() else { break }
                if let value = late { discardLate(value) }
            } catch {
                lateError = lateError ?? error
            }
        }
        throw DeadlineExceeded(lateError: lateError)
    }
}
