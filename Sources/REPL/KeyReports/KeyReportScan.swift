import RESP
import SentinelClient

/// A report the key-report scan fills: keys counted as redis-cli counts them for its
/// progress figure, and the closing summary.
protocol KeyReport {
    var sampled: UInt64 { get }
    /// DBSIZE of the node scanned, before the first page.
    mutating func begin(keyCount: UInt64)
    func summary(cancelledAt: Double?) -> String
    /// What the report adds when Ctrl-C stopped it at `cursor` on `node` (empty: the generic notice).
    func interruptedNote(cursor: String, node: ServerAddress?) -> String
}

extension KeyReport {
    mutating func begin(keyCount: UInt64) {}
    func interruptedNote(cursor: String, node: ServerAddress?) -> String { "" }
}

/// The scan loop of redis-cli's key reports (`--bigkeys`, `--memkeys`, `--keystats`,
/// `--hotkeys`): the header, DBSIZE for the progress figure, one measured page at a time
/// (`-i` sleeps after each 100), the summary. When the node fails, the scan starts over on
/// the next node and so does the report: no key is counted twice. Ctrl-C ends it after
/// the page under way.
enum KeyReportScan {
    /// Measures one page into the report and returns its lines; nil when the page's node
    /// failed (the page is then read again elsewhere).
    typealias Measure<Report> = (ScanPage, inout KeyScan, inout Report, _ percent: Double) async throws -> String?

    static func run<Report: KeyReport>(
        client: SentinelClient, options: ScanOptions, source: ScanSource, output: TerminalOutput, header: String,
        newReport: () -> Report, measure: Measure<Report>
    ) async -> Int32 {
        var scan = client.scan(source: source, match: options.match, count: options.count, from: options.cursor)
        defer { scan.close() }
        return await withInterruptFlag { interrupted -> Int32 in
            var report = newReport()
            var percent = 0.0
            do {
                output.write(header)
                let total = try await keyCount(&scan)
                report.begin(keyCount: total)
                var pages = 0
                while true {
                    percent = 100 * Double(report.sampled) / Double(total)
                    guard let page = try await scan.next() else { break }
                    if page.startCursor == "0" && report.sampled > 0 {
                        report = newReport()  // the scan started over on another node
                        report.begin(keyCount: total)
                    }
                    guard let lines = try await measure(page, &scan, &report, percent) else { continue }
                    output.write(lines)
                    pages += 1
                    if options.interval > 0 && pages % 100 == 0 { try? await Task.sleep(nanoseconds: UInt64(options.interval * 1e9)) }
                    if scan.finished || interrupted() { break }
                }
            } catch {
                let hint = (error as? SentinelClientError).map { ScanMode.hint(for: $0, options) } ?? ""
                Session.standardError.write("sentinel-repl: \(error)\(hint)\n")
                return 1
            }
            let cancelled = interrupted()
            output.write(report.summary(cancelledAt: cancelled ? percent : nil))
            for move in scan.moves { output.write("-- the scan \(move): the figures above are from there alone\n") }
            if cancelled {
                let note = report.interruptedNote(cursor: scan.cursor, node: scan.node)
                if note.isEmpty { ResumeNotice.write(cursor: scan.cursor, node: scan.node, to: output) } else { output.write(note) }
            }
            return 0
        }
    }

    /// DBSIZE on the node the scan reads (its first page's node).
    private static func keyCount(_ scan: inout KeyScan) async throws -> UInt64 {
        let reply = try await scan.pipeline([RESPCommand("DBSIZE")])[0].get()
        guard let size = reply.integer, size >= 0 else {
            throw KeyReportError("Couldn't determine DBSIZE: \(reply.errorMessage ?? "\(reply)")")
        }
        return UInt64(size)
    }

    /// TYPE of each key of the page, pipelined on its node; nil when the node failed them
    /// (the page is then read again elsewhere).
    static func types(of keys: [[UInt8]], _ page: ScanPage, _ scan: inout KeyScan) async throws -> [String]? {
        var names: [String] = []
        for reply in try await scan.pipeline(keys.map { RESPCommand(arguments: [Array("TYPE".utf8), $0]) }) {
            guard case .success(let value) = reply else {
                try await scan.leaveNode(of: page, because: "TYPE failed: \(reply)")
                return nil
            }
            guard let name = value.string, !value.isError else {
                throw KeyReportError("TYPE returned an error: \(value.errorMessage ?? "\(value)")")
            }
            names.append(name)
        }
        return names
    }

    /// redis-cli's warning for a size command without an integer reply (the key changed type).
    static func sizeWarning(_ command: String, _ key: [UInt8]) {
        Session.standardError.write(Array("Warning:  \(command) on '".utf8) + key.prefix { $0 != 0 } + Array("' failed (may have changed type)\n".utf8))
    }
}
