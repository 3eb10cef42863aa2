import NIOCore
import RESP

/// Where a keyspace scan reads.
public enum ScanSource: Sendable, Hashable {
    /// The least lagging healthy replica (`SentinelClient.replicasByLag()`), then another
    /// when it fails; never the master, which is the one node a scan should not load.
    case replica
    /// The master Sentinel names, and the new one after a failover.
    case master
}

/// A scan that left one node for another, and started over there.
public struct ScanMove: Sendable, Hashable, CustomStringConvertible {
    public var from: ServerAddress
    public var to: ServerAddress
    /// The cursor reached on `from`; it means nothing on `to`.
    public var cursor: String
    /// Why the scan left `from`.
    public var reason: String
    /// Pages read before the move: their keys come again.
    public var pagesBefore: Int

    public var description: String { "moved from \(from) to \(to) at cursor \(cursor) (\(reason)) and started over there" }
}

/// One page of a scan: its keys, the cursor that asked for it and the one after it
/// (`"0"`: the scan is over), and the node that answered.
public struct ScanPage: Sendable {
    public var keys: [ByteBuffer]
    public var startCursor: String
    public var cursor: String
    public var node: ServerAddress
}

/// `SCAN` through Sentinel, page by page, surviving its node: when the node scanned
/// dies, is promoted, is reconfigured (Sentinel closes its clients then) or cannot serve
/// (`LOADING`, `MASTERDOWN`), the scan starts over on another node of its `source`, from
/// cursor 0. A cursor does not carry over: it is a position in one server's hash table,
/// and each server seeds its hash function at random, so the same key sits in another
/// bucket on every node (carried over, a cursor 2% into 1,000,000 keys missed 21,818 of
/// them here). Every key that exists throughout comes at least once; those of the pages
/// before a move come again (`moves` says when, and how many pages).
///
/// Made by `SentinelClient.scan(source:match:count:type:from:)`; one task uses it at a
/// time. `close()` closes its connection (the client's shutdown does too).
public struct KeyScan: Sendable {
    /// How long a node may send nothing while the scan waits for its reply; then it is
    /// left as a failed node (a stopped or hung process answers nothing, and closes nothing).
    public static let replyTimeout: TimeAmount = .seconds(10)

    public let source: ScanSource
    /// `MATCH`, `COUNT` and `TYPE` as sent with every SCAN.
    public let match: [UInt8]?
    public let count: Int?
    public let type: String?
    /// The cursor of the next page.
    public private(set) var cursor: String
    public private(set) var finished = false
    public private(set) var moves: [ScanMove] = []
    /// The node of the last page.
    public private(set) var node: ServerAddress?

    private let client: SentinelClient
    private var connection: RedisConnection?
    private var failed: Set<ServerAddress> = []
    /// Pages read on the current node.
    private var pages = 0

    init(client: SentinelClient, source: ScanSource, match: [UInt8]?, count: Int?, type: String?, from cursor: String) {
        self.client = client
        self.source = source
        self.match = match
        self.count = count
        self.type = type
        self.cursor = cursor
    }

    /// The next page, or nil once the scan is over.
    public mutating func next() async throws(SentinelClientError) -> ScanPage? {
        guard !finished else { return nil }
        while true {
            let current = try await currentConnection()
            let start = cursor
            let reply: RESPValue
            do {
                reply = try await current.send(scanCommand)
            } catch {
                try await leave(current, because: error.description)
                continue
            }
            if let message = reply.errorMessage {
                guard Self.nodeCannotServe(message) else {
                    throw .scanFailed("\(current.address) answered SCAN with \(message)", address: current.address, cursor: start)
                }
                try await leave(current, because: message)
                continue
            }
            guard let parts = reply.elements, parts.count == 2, let next = parts[0].string, let keys = parts[1].elements else {
                throw .scanFailed("\(current.address) answered SCAN with \(reply), not a cursor and keys", address: current.address, cursor: start)
            }
            cursor = next
            finished = next == "0"
            pages += 1
            return ScanPage(keys: keys.compactMap(\.bytes), startCursor: start, cursor: next, node: current.address)
        }
    }

    /// Commands on the node of the last page (before the first page: on the node the
    /// scan will read), pipelined: `DBSIZE`, `TYPE` or `MEMORY USAGE` of a page's keys.
    public mutating func pipeline(_ commands: [RESPCommand]) async throws(SentinelClientError) -> [Result<RESPValue, SentinelClientError>] {
        await (try await currentConnection()).pipeline(commands)
    }

    /// Leaves the node of `page`, which failed the page's own commands (`pipeline`) with
    /// `reason`: the scan starts over on another node.
    public mutating func leaveNode(of page: ScanPage, because reason: String) async throws(SentinelClientError) {
        finished = false
        if let connection, connection.address == page.node { try await leave(connection, because: reason) }
    }

    public mutating func close() {
        connection?.close(reason: "the scan is over")
        connection = nil
    }

    private var scanCommand: RESPCommand {
        var arguments: [[UInt8]] = [Array("SCAN".utf8), Array(cursor.utf8)]
        if let match { arguments += [Array("MATCH".utf8), match] }
        if let count { arguments += [Array("COUNT".utf8), Array(String(count).utf8)] }
        if let type { arguments += [Array("TYPE".utf8), Array(type.utf8)] }
        return RESPCommand(arguments: arguments)
    }

    /// Replies that another node of the same data would not give.
    static func nodeCannotServe(_ message: String) -> Bool {
        ["LOADING", "MASTERDOWN", "BUSY", "NOAUTH", "READONLY"].contains { message.hasPrefix($0) }
    }

    private mutating func currentConnection() async throws(SentinelClientError) -> RedisConnection {
        if let connection { return connection }
        let fresh = try await client.connectForScan(source, avoiding: failed)
        connection = fresh
        node = fresh.address
        return fresh
    }

    /// Closes the node's connection and goes on on another one, recording the move.
    private mutating func leave(_ current: RedisConnection, because reason: String) async throws(SentinelClientError) {
        current.close(reason: "the scan moves on")
        connection = nil
        failed.insert(current.address)
        let next: RedisConnection
        do {
            next = try await client.connectForScan(source, avoiding: failed)
        } catch {
            throw .scanFailed("\(current.address) failed (\(reason)) and no other node could go on: \(error)", address: current.address, cursor: cursor)
        }
        moves.append(ScanMove(from: current.address, to: next.address, cursor: cursor, reason: reason, pagesBefore: pages))
        cursor = "0"
        pages = 0
        connection = next
        node = next.address
        if next.address != current.address { failed.remove(next.address) }
    }
}
