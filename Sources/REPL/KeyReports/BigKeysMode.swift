import NIOConcurrencyHelpers
import RESP
import SentinelClient
import UnixSignals

/// `--bigkeys` and `--memkeys`: redis-cli's report, from a healthy replica unless
/// `--master`. When the node fails (the scan, or a page's TYPE or size commands), the
/// scan starts over on the next node and so does the count: no key is counted twice.
enum BigKeysMode {
    static func run(client: SentinelClient, options: ScanOptions, output: TerminalOutput) async -> Int32 {
        await KeyReportScan.run(
            client: client, options: options, source: options.source, output: output, header: BigKeysReport.header,
            newReport: { BigKeysReport(memkeys: options.memkeys != nil) }
        ) { page, scan, report, percent in
            guard let measured = try await measure(page, &scan, &report, options) else { return nil }
            return report.record(keys: measured.keys, types: measured.types, sizes: measured.sizes, percent: percent)
        }
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
        guard let names = try await KeyReportScan.types(of: keys, page, &scan) else { return nil }
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
            KeyReportScan.sizeWarning(sizer, keys[index])
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
