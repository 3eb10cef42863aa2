/// The callers suspended inside the client, each under an id: waiting for a pool slot,
/// for a promotion hold to end, for the first discovery, or for the shutdown to finish.
/// A plain value inside `SentinelClientStateMachine`; resuming is the owner's action.
///
/// A wake may come before its waiter has parked (the pool wakes an id it handed out
/// while the caller was still on its way to suspend): it is remembered, and the waiter
/// is resumed as it parks, so no wake is lost.
struct ParkedWaiters<Waiter> {
    typealias ID = UInt64

    /// What a parked caller waits for.
    enum Reason: Sendable, Equatable {
        /// A pool slot (the pool knows the id too).
        case slot
        /// The end of a promotion hold.
        case hold
    }

    private var parked: [ID: (reason: Reason, waiter: Waiter)] = [:]
    private var wokenEarly: Set<ID> = []
    private var lastID: ID = 0

    var count: Int { parked.count }

    /// A fresh id for a caller that may have to wait.
    mutating func makeID() -> ID {
        lastID += 1
        return lastID
    }

    /// Parks `waiter`; returns it at once when its wake already came.
    mutating func park(_ id: ID, _ reason: Reason, _ waiter: Waiter) -> Waiter? {
        if wokenEarly.remove(id) != nil { return waiter }
        parked[id] = (reason, waiter)
        return nil
    }

    /// The waiter under `id`, removed; a wake for an id not parked yet is kept for `park`.
    mutating func wake(_ id: ID) -> Waiter? {
        guard let entry = parked.removeValue(forKey: id) else {
            wokenEarly.insert(id)
            return nil
        }
        return entry.waiter
    }

    /// The waiter under `id` gave up (deadline or cancellation); nil when it was woken already.
    mutating func remove(_ id: ID) -> Waiter? {
        wokenEarly.remove(id)
        return parked.removeValue(forKey: id)?.waiter
    }

    /// Every waiter parked for `reason`, removed.
    mutating func removeAll(_ reason: Reason) -> [Waiter] {
        let ids = parked.filter { $0.value.reason == reason }.map(\.key).sorted()
        return ids.compactMap { parked.removeValue(forKey: $0)?.waiter }
    }
}
