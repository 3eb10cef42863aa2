import NIOCore

/// How the known sentinels stand on the master in use, from the last probe of them all
/// (every `reconcileInterval`): a hung sentinel shows here, not on its quiet watcher link.
public struct SentinelAgreement: Sendable, Hashable, CustomStringConvertible {
    public var known: Int
    /// Sentinels that answered and named the master in use.
    public var agreeing: Int
    /// Sentinels that did not answer within `sentinelTryTimeout`.
    public var unreachable: [ServerAddress]
    /// Sentinels that answered naming another master, or none.
    public var dissenting: [ServerAddress]

    public var isFull: Bool { agreeing == known }
    /// More than half of the known sentinels answer: a failover can still be authorized.
    public var majorityAnswers: Bool { (known - unreachable.count) * 2 > known }

    /// `3/3 sentinels agree`, `2/3 sentinels agree, 1 unreachable`, ...
    public var description: String {
        var parts = ["\(agreeing)/\(known) sentinels agree"]
        if !unreachable.isEmpty { parts.append("\(unreachable.count) unreachable") }
        if !dissenting.isEmpty { parts.append("\(dissenting.count) name another master") }
        if !majorityAnswers { parts.append("no majority answers") }
        return parts.joined(separator: ", ")
    }
}
