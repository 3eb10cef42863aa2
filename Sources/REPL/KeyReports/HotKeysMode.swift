import RESP
import SentinelClient

/// `--hotkeys`: redis-cli's report of the keys with the highest LFU counters (OBJECT
/// FREQ). The counters are the master's own (reads on a replica do not reach them), so it
/// scans the master, and says first when the master keeps none (no LFU maxmemory-policy).
enum HotKeysMode {
    static func run(client: SentinelClient, options: ScanOptions, output: TerminalOutput) async -> Int32 {
        if let refusal = await countersMissing(client) {
            Session.standardError.write("sentinel-repl: \(refusal)\n")
            return 1
        }
        return await KeyReportScan.run(
            client: client, options: options, source: .master, output: output, header: HotKeysReport.header,
            newReport: { HotKeysReport() }
        ) { page, scan, report, percent in
            let keys = page.keys.map { Array($0.readableBytesView) }
            let replies = try await scan.pipeline(keys.map { RESPCommand(arguments: [Array("OBJECT".utf8), Array("FREQ".utf8), $0]) })
            var frequencies: [UInt64] = []
            for (key, reply) in zip(keys, replies) {
                guard case .success(let value) = reply else {
                    try await scan.leaveNode(of: page, because: "OBJECT FREQ failed: \(reply)")
                    return nil
                }
                if let message = value.errorMessage { throw KeyReportError("Error: \(message)") }
                if let frequency = value.integer, frequency >= 0 {
                    frequencies.append(UInt64(frequency))
                } else {
                    let name = String(decoding: ReplyRenderer.quoted(key), as: UTF8.self)
                    Session.standardError.write("Warning: OBJECT freq on '\(name)' failed (may have been deleted)\n")
                    frequencies.append(0)
                }
            }
            return report.record(keys: keys, frequencies: frequencies, percent: percent)
        }
    }

    /// Why OBJECT FREQ would fail on the master: its policy, when CONFIG GET tells it.
    private static func countersMissing(_ client: SentinelClient) async -> String? {
        let reply = try? await client.execute(RESPCommand("CONFIG", "GET", "maxmemory-policy"))
        let value: RESPValue? =
            switch reply {
            case .array(let pair?) where pair.count == 2: pair[1]
            case .map(let pairs) where pairs.count == 1: pairs[0].value
            default: nil
            }
        // CONFIG refused or renamed: OBJECT FREQ's own error will tell.
        guard let policy = value?.string else { return nil }
        guard !policy.contains("lfu") else { return nil }
        return "--hotkeys reads the LFU counters (OBJECT FREQ) that the master keeps only under an LFU maxmemory-policy, "
            + "and its policy is '\(policy)' (CONFIG SET maxmemory-policy allkeys-lfu, or volatile-lfu, starts them; "
            + "they are per node, so a replica's would not count the master's reads)"
    }
}
