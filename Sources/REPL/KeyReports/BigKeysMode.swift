import NIOConcurrencyHelpers
import RESP
import SentinelClient
import UnixSignals

/// `--bigkeys` and `--memkeys`: redis-cli's report, from a healthy replica unless
/// `--master`. When the node fails (the scan, or a page's TYPE or size commands), the
/// scan starts over on the next node and so does the count: no key is counted twice.
enum BigKeysMode {
    static func run(client: SentinelClient, options: ScanOptions, output: TerminalOutput) async -> Int32 {
        var scan = client.scan(source: options.source, match: options.match, count: options.count, from: options.cursor)
        defer { scan.close() }
        return await withInterruptFlag { interrupted -> Int32 in
            var report = BigKeysReport(memkeys: options.memkeys != nil)
            var percent = 0.0
            do {
                output.write(BigKeysReport.header)
                let total = try await keyCount(&scan)
                var pages = 0
                while true {
                    percent = 100 * Double(report.sampled) / Double(total)
                    guard let page = try await scan.next() else { break }
                    if page.startCursor == "0" && report.sampled > 0 {
                        report = BigKeysReport(memkeys: options.memkeys != nil)  // the scan started over on another node
                    }
                    guard let measured = try await measure(page, &scan, &report, options) else { continue }
                    output.write(report.record(keys: measured.keys, types: measured.types, sizes: measured.sizes, percent: percent))
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
            if cancelled { ResumeNotice.write(cursor: scan.cursor, node: scan.node, to: output) }
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

    struct Measured {
        var keys: [[UInt8]]
        var types: [String?]
        var sizes: [UInt64]
    }

    /// TYPE of every key of the page, then its size, pipelined on the page's node; nil
    /// when that node failed them (the page is then read again elsewhere).
    private static func measure(
        _ page: ScanPage, _ scan: inout KeyScan, _ report: inout BigKeysReport, _ options: ScanOptions
    ) async throws -> Measured? {
        let keys = page.keys.map { Array($0.readableBytesView) }
        let typeReplies = try await scan.pipeline(keys.map { RESPCommand(arguments: [Array("TYPE".utf8), $0]) })
        var names: [String] = []
        for reply in typeReplies {
            guard case .success(let value) = reply else {
                try await scan.leaveNode(of: page, because: "TYPE failed: \(reply)")
                return nil
            }
            guard let name = value.string, !value.isError else {
                throw KeyReportError("TYPE returned an error: \(value.errorMessage ?? "\(value)")")
            }
            names.append(name)
        }
        var fresh = report
        let types = fresh.track(names)
        let commands = keys.indices.map { fresh.sizeCommand(for: keys[$0], type: types[$0], samples: options.memkeys ?? 0) }
        let sizeReplies = try await scan.pipeline(commands.compactMap { $0 })
        guard !sizeReplies.contains(where: { if case .failure = $0 { true } else { false } }) else {
            try await scan.leaveNode(of: page, because: "a size command failed")
            return nil
        }
        report = fresh
        var replies = sizeReplies.makeIterator()
        let sizes = commands.indices.map { index -> UInt64 in
            guard commands[index] != nil, case .success(let value)? = replies.next() else { return 0 }
            if let size = value.integer, size >= 0 { return UInt64(size) }
            let sizer = options.memkeys != nil ? "MEMORY USAGE" : types[index].flatMap { report.types[$0]?.sizeCommand } ?? "?"
            Session.standardError.write("Warning:  \(sizer) on '\(String(decoding: keys[index].prefix { $0 != 0 }, as: UTF8.self))' failed (may have changed type)\n")
            return 0
        }
        return Measured(keys: keys, types: types, sizes: sizes)
    }
}

/// A report's own failure, worded as redis-cli words it.
struct KeyReportError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
