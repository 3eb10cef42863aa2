/// The sentinels that carry a subscription to Sentinel's events, the one place that
/// says which are watched, which link is up and which connection carries it. A plain
/// value inside `SentinelClientStateMachine`.
struct SentinelWatchers<Connection: AnyObject> {
    private struct Link {
        var connection: Connection?
        var subscribed = false
        /// Lost after being up: finding it again is news.
        var lost = false
    }

    let limit: Int
    private var links: [ServerAddress: Link] = [:]

    init(limit: Int) { self.limit = limit }

    /// Starts watching `sentinel`: false when it is watched already or the limit is reached.
    mutating func add(_ sentinel: ServerAddress) -> Bool {
        guard links[sentinel] == nil, links.count < limit else { return false }
        links[sentinel] = Link()
        return true
    }

    func isSubscribed(_ sentinel: ServerAddress) -> Bool { links[sentinel]?.subscribed ?? false }

    /// The watcher dialled `sentinel`; the connection is closed by whoever ends the link.
    mutating func connected(_ sentinel: ServerAddress, _ connection: Connection) {
        links[sentinel]?.connection = connection
    }

    /// The subscription came up or went down. The first one is no news; a link lost
    /// and found again is. Going down hands back the connection to close.
    mutating func linkChanged(_ sentinel: ServerAddress, subscribed: Bool) -> (event: TopologyEvent?, close: Connection?) {
        guard var link = links[sentinel] else { return (nil, nil) }
        let was = link.subscribed
        let lostBefore = link.lost
        let close = subscribed ? nil : link.connection
        link.subscribed = subscribed
        link.lost = !subscribed
        if !subscribed { link.connection = nil }
        links[sentinel] = link
        guard was != subscribed, !subscribed || lostBefore else { return (nil, close) }
        return (subscribed ? .sentinelUp(sentinel) : .sentinelDown(sentinel), close)
    }

    /// At shutdown: every link's connection, to unsubscribe and close; none is kept.
    mutating func takeConnections() -> [Connection] {
        let open = links.values.compactMap(\.connection)
        for sentinel in links.keys { links[sentinel]?.connection = nil }
        return open
    }
}
