import Dispatch
import NIOConcurrencyHelpers
import NIOCore
import RESP
import SentinelClient

/// Key names for TAB in a key position: a bounded `SCAN MATCH prefix*` on a healthy
/// replica (the master only when no replica is healthy), and the keys seen in recent
/// replies (`KEYS`, `SCAN`, `RANDOMKEY`). The editor thread waits at most `wait` for
/// the scan; what the scan finds later is kept for the next TAB. The scans run one at a
/// time in the session's task group (`run`), on one connection kept between them.
package final class KeyCompleter: Sendable {
    /// How long TAB waits for the scan.
    static let wait = DispatchTimeInterval.milliseconds(50)
    /// The scan's bounds: its time, its pages of COUNT `pageCount`, and the keys it returns.
    static let scanBudget = Duration.milliseconds(50)
    static let pageCount = 1000
    static let maxPages = 100
    static let maxKeys = 2000

    private final class Answer: Sendable {
        let done = DispatchSemaphore(value: 0)
        let keys = NIOLockedValueBox<[[UInt8]]>([])
    }

    private struct Request: Sendable {
        let prefix: [UInt8]
        let database: Int
        let answer: Answer
    }

    private let requests: AsyncStream<Request>
    private let continuation: AsyncStream<Request>.Continuation
    private let recent = NIOLockedValueBox(RecentKeys(capacity: 10_000))
    /// The session's database (SELECT), for the scan.
    package let database = NIOLockedValueBox(0)

    package init() {
        (requests, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// On the editor thread: the keys starting with `prefix`, sorted.
    package func keys(startingWith prefix: [UInt8]) -> [[UInt8]] {
        let answer = Answer()
        continuation.yield(Request(prefix: prefix, database: database.withLockedValue { $0 }, answer: answer))
        _ = answer.done.wait(timeout: .now() + Self.wait)
        let scanned = answer.keys.withLockedValue { $0 }
        let seen = recent.withLockedValue { $0.keys(startingWith: prefix) }
        return Set(scanned + seen).sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Keeps the keys a reply names, for commands that list keys.
    package func noteReply(_ reply: RESPValue, to command: RESPCommand) {
        guard let name = command.arguments.first.flatMap(Self.listingKeys.match) else { return }
        let keys: [RESPValue]
        switch name {
        case "SCAN": keys = reply.elements.flatMap { $0.count == 2 ? $0[1].elements : nil } ?? []
        case "RANDOMKEY": keys = [reply]
        default: keys = reply.elements ?? []
        }
        let names = keys.compactMap { $0.bytes.map { Array($0.readableBytesView) } }
        if !names.isEmpty { recent.withLockedValue { $0.add(names) } }
    }

    private static let listingKeys = CommandNameSet(["KEYS", "SCAN", "RANDOMKEY"])

    /// Serves the scans until the session ends (its task is cancelled); then closes the connection.
    package func run(client: SentinelClient) async {
        var scan: KeyScan?
        for await request in requests {
            let keys = await Self.scan(for: request, on: &scan, client: client)
            recent.withLockedValue { $0.add(keys) }
            request.answer.keys.withLockedValue { $0 = keys }
            request.answer.done.signal()
        }
        scan?.close()
    }

    /// `SCAN 0 MATCH prefix* COUNT 1000` page by page within the bounds, after `SELECT`;
    /// on a healthy replica, else on the master.
    private static func scan(for request: Request, on scan: inout KeyScan?, client: SentinelClient) async -> [[UInt8]] {
        let deadline = ContinuousClock.now + scanBudget
        var found: [[UInt8]] = []
        var cursor = "0"
        var pages = 0
        var source = ScanSource.replica
        repeat {
            if scan == nil { scan = client.scan(source: source) }
            var commands = [RESPCommand(arguments: [Array("SCAN".utf8), Array(cursor.utf8), Array("MATCH".utf8), pattern(request.prefix), Array("COUNT".utf8), Array(String(pageCount).utf8)])]
            if pages == 0 { commands.insert(RESPCommand("SELECT", String(request.database)), at: 0) }
            let replies = try? await scan?.pipeline(commands)
            guard let page = replies?.last.flatMap({ try? $0.get() }), let parts = page.elements, parts.count == 2,
                let next = parts[0].string, let keys = parts[1].elements
            else {
                scan?.close()
                scan = nil
                // No healthy replica to ask (or it failed): the master, once, with the same bounds.
                guard source == .replica, replies == nil else { return found }
                source = .master
                continue
            }
            found += keys.compactMap { $0.bytes.map { Array($0.readableBytesView) } }
            cursor = next
            pages += 1
        } while cursor != "0" && ContinuousClock.now < deadline && pages < maxPages && found.count < maxKeys
        return found
    }

    /// `prefix*`, the prefix's glob characters escaped.
    static func pattern(_ prefix: [UInt8]) -> [UInt8] {
        var pattern: [UInt8] = []
        for byte in prefix {
            if [UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "\\")].contains(byte) {
                pattern.append(UInt8(ascii: "\\"))
            }
            pattern.append(byte)
        }
        return pattern + [UInt8(ascii: "*")]
    }
}

/// The last `capacity` distinct keys seen, oldest dropped first.
struct RecentKeys: Sendable {
    let capacity: Int
    private var order: [[UInt8]] = []
    private var members: Set<[UInt8]> = []

    init(capacity: Int) { self.capacity = capacity }

    mutating func add(_ keys: [[UInt8]]) {
        for key in keys where members.insert(key).inserted { order.append(key) }
        if order.count > capacity {
            let dropped = order.prefix(order.count - capacity)
            members.subtract(dropped)
            order.removeFirst(dropped.count)
        }
    }

    func keys(startingWith prefix: [UInt8]) -> [[UInt8]] {
        order.filter { $0.starts(with: prefix) }
    }
}
