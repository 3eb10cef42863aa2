import Dispatch
import NIOConcurrencyHelpers
import NIOCore
import RESP
import SentinelClient

/// Key names for TAB in a key position: a bounded `SCAN MATCH prefix*` on a healthy
/// replica (the master only when no replica can be reached), and the keys seen in recent
/// replies (`KEYS`, `SCAN`, `RANDOMKEY`), per database. The editor thread waits at most `wait` for
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
    /// Per database.
    private let recent = NIOLockedValueBox([Int: RecentKeys]())
    /// The session's database (SELECT), for the scan.
    package let database = NIOLockedValueBox(0)

    package init() {
        (requests, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// On the editor thread: the keys starting with `prefix`, sorted; what the scan found
    /// by the end of the wait counts, page by page.
    package func keys(startingWith prefix: [UInt8]) -> [[UInt8]] {
        let answer = Answer()
        let database = database.withLockedValue { $0 }
        continuation.yield(Request(prefix: prefix, database: database, answer: answer))
        _ = answer.done.wait(timeout: .now() + Self.wait)
        let scanned = answer.keys.withLockedValue { $0 }
        return Set(scanned + recentKeys(startingWith: prefix)).sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// The keys seen in replies, in the session's database, that start with `prefix`.
    func recentKeys(startingWith prefix: [UInt8]) -> [[UInt8]] {
        let database = database.withLockedValue { $0 }
        return recent.withLockedValue { $0[database]?.keys(startingWith: prefix) ?? [] }
    }

    private func remember(_ keys: [[UInt8]], in database: Int) {
        guard !keys.isEmpty else { return }
        recent.withLockedValue { $0[database, default: RecentKeys(capacity: 10_000)].add(keys) }
    }

    /// Keeps the keys a reply names, for commands that list keys; forgets them all after
    /// a command that empties or swaps databases.
    package func noteReply(_ reply: RESPValue, to command: RESPCommand) {
        guard let name = command.first.flatMap(Self.listingKeys.match), !reply.isError else { return }
        let keys: [RESPValue]
        switch name {
        case "FLUSHDB", "FLUSHALL", "SWAPDB":
            recent.withLockedValue { $0.removeAll() }
            return
        case "SCAN": keys = reply.elements.flatMap { $0.count == 2 ? $0[1].elements : nil } ?? []
        case "RANDOMKEY": keys = [reply]
        default: keys = reply.elements ?? []
        }
        remember(keys.compactMap { $0.bytes.map { Array($0.readableBytesView) } }, in: database.withLockedValue { $0 })
    }

    private static let listingKeys = CommandNameSet(["KEYS", "SCAN", "RANDOMKEY", "FLUSHDB", "FLUSHALL", "SWAPDB"])

    /// Serves the scans until the session ends (its task is cancelled); then closes the connection.
    package func run(client: SentinelClient) async {
        var scan: KeyScan?
        for await request in requests {
            await Self.scan(for: request, on: &scan, client: client)
            remember(request.answer.keys.withLockedValue { $0 }, in: request.database)
            request.answer.done.signal()
        }
        scan?.close()
    }

    /// `SCAN 0 MATCH prefix* COUNT 1000` page by page within the bounds, after `SELECT`,
    /// each page's keys added to the answer as it comes; on a healthy replica, else on the
    /// master (when no replica could be reached).
    private static func scan(for request: Request, on scan: inout KeyScan?, client: SentinelClient) async {
        let deadline = ContinuousClock.now + scanBudget
        // The master served only because no replica could: ask for a replica again.
        if scan?.source == .master {
            scan?.close()
            scan = nil
        }
        for source in [ScanSource.replica, .master] {
            if scan == nil { scan = client.scan(source: source) }
            switch await pages(for: request, on: &scan, until: deadline) {
            case .done: return
            case .unreachable: continue
            }
        }
    }

    private enum Ending { case done, unreachable }

    private static func pages(for request: Request, on scan: inout KeyScan?, until deadline: ContinuousClock.Instant) async -> Ending {
        var cursor = "0"
        var pages = 0
        var found = 0
        repeat {
            var commands = [RESPCommand(arguments: [Array("SCAN".utf8), Array(cursor.utf8), Array("MATCH".utf8), pattern(request.prefix), Array("COUNT".utf8), Array(String(pageCount).utf8)])]
            if pages == 0 { commands.insert(RESPCommand("SELECT", String(request.database)), at: 0) }
            let replies: [Result<RESPValue, SentinelClientError>]
            do {
                guard let sent = try await scan?.pipeline(commands) else { return .done }
                replies = sent
            } catch {
                // No node of that kind could be reached.
                scan?.close()
                scan = nil
                return .unreachable
            }
            guard let page = replies.last.flatMap({ try? $0.get() }), let parts = page.elements, parts.count == 2,
                let next = parts[0].string, let keys = parts[1].elements
            else {
                scan?.close()
                scan = nil
                return .done
            }
            let names = keys.compactMap { $0.bytes.map { Array($0.readableBytesView) } }
            request.answer.keys.withLockedValue { $0 += names }
            found += names.count
            cursor = next
            pages += 1
        } while cursor != "0" && ContinuousClock.now < deadline && pages < maxPages && found < maxKeys
        return .done
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
