import RESP
import SentinelClient

/// `--keystats [--keystats-samples N] [--top N]`: redis-cli 7.4's report, whatever the
/// server's version (it needs SCAN, TYPE, MEMORY USAGE and the length commands), from a
/// healthy replica unless `--master`. On a terminal the running figures redraw in place
/// every 300 ms, as redis-cli's do.
enum KeyStatsMode {
    static func run(client: SentinelClient, options: ScanOptions, samples: Int?, top: Int, terminal: Bool, output: TerminalOutput) async -> Int32 {
        var redrawnAt = LatencyMode.milliseconds()
        return await KeyReportScan.run(
            client: client, options: options, source: options.source, output: output, header: KeyStatsReport.header,
            newReport: { KeyStatsReport(top: top, terminal: terminal) }
        ) { page, scan, report, _ in
            let keys = page.keys.map { Array($0.readableBytesView) }
            guard let typeNames = try await KeyReportScan.types(of: keys, page, &scan) else { return nil }
            var fresh = report
            let types = fresh.track(typeNames)
            guard let sizes = try await sizes(keys, types, fresh, samples, page, &scan) else { return nil }
            report = fresh
            let warnings = report.record(keys: keys, types: types, sizes: sizes.memory, lengths: sizes.lengths)
            if !warnings.isEmpty { Session.standardError.write(warnings) }
            var lines = ""
            if terminal && LatencyMode.milliseconds() > redrawnAt + 300 {
                lines += report.runningFigures(redraw: true)
                redrawnAt = LatencyMode.milliseconds()
            }
            return lines
        }
    }

    /// MEMORY USAGE and the type's length command for every key still there, in one pipeline.
    private static func sizes(
        _ keys: [[UInt8]], _ types: [String?], _ report: KeyStatsReport, _ samples: Int?, _ page: ScanPage, _ scan: inout KeyScan
    ) async throws -> (memory: [UInt64], lengths: [UInt64])? {
        let sampling = samples.map { [Array("SAMPLES".utf8), Array(String($0).utf8)] } ?? []
        let present = keys.indices.filter { types[$0] != nil }
        let measured = present.filter { report.lengthCommand(type: types[$0]) != nil }
        let commands = present.map { RESPCommand(arguments: [Array("MEMORY".utf8), Array("USAGE".utf8), keys[$0]] + sampling) }
            + measured.map { RESPCommand(arguments: [Array(report.lengthCommand(type: types[$0])!.utf8), keys[$0]]) }
        let replies = try await scan.pipeline(commands)
        guard !replies.contains(where: { if case .failure = $0 { true } else { false } }) else {
            try await scan.leaveNode(of: page, because: "a size command failed")
            return nil
        }
        var memory = [UInt64](repeating: 0, count: keys.count), lengths = memory
        for (slot, index) in present.enumerated() {
            memory[index] = size(replies[slot], "MEMORY USAGE", keys[index])
        }
        for (slot, index) in measured.enumerated() {
            lengths[index] = size(replies[present.count + slot], report.lengthCommand(type: types[index])!, keys[index])
        }
        return (memory, lengths)
    }

    private static func size(_ reply: Result<RESPValue, SentinelClientError>, _ command: String, _ key: [UInt8]) -> UInt64 {
        if case .success(let value) = reply, let size = value.integer, size >= 0 { return UInt64(size) }
        KeyReportScan.sizeWarning(command, key)
        return 0
    }
}
