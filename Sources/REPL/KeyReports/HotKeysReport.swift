/// redis-cli's `--hotkeys` report (`findHotKeys` of redis-cli.c 7.0), line for line: the
/// 16 highest LFU counters in an eviction pool, each as it enters, then the summary.
struct HotKeysReport: KeyReport {
    static let poolSize = 16
    static let header = """

        # Scanning the entire keyspace to find hot keys as well as
        # average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec
        # per 100 SCAN commands (not usually needed).


        """

    /// Ascending: the coldest of the pool first; 0 is an empty slot.
    private var counters = [UInt64](repeating: 0, count: poolSize)
    private var keys = [String?](repeating: nil, count: poolSize)
    private(set) var sampled: UInt64 = 0

    /// One page's keys with their counters; the lines redis-cli prints for them.
    mutating func record(keys pageKeys: [[UInt8]], frequencies: [UInt64], percent: Double) -> String {
        var lines = ""
        for (key, frequency) in zip(pageKeys, frequencies) {
            sampled += 1
            if sampled % 1_000_000 == 0 { lines += "[\(BigKeysReport.percent(percent))%] Sampled \(sampled) keys so far\n" }
            var slot = 0
            while slot < Self.poolSize && frequency > counters[slot] { slot += 1 }
            if slot == 0 { continue }
            slot -= 1
            if slot != 0 && counters[slot] != 0 {
                // The coldest leaves; the colder ones move down one to make room.
                counters.replaceSubrange(0..<slot, with: counters[1...slot])
                keys.replaceSubrange(0..<slot, with: keys[1...slot])
            }
            counters[slot] = frequency
            let quoted = String(decoding: ReplyRenderer.quoted(key), as: UTF8.self)
            keys[slot] = quoted
            lines += "[\(BigKeysReport.percent(percent))%] Hot key '\(quoted)' found so far with counter \(frequency)\n"
        }
        return lines
    }

    func summary(cancelledAt: Double?) -> String {
        var text = "\n-------- summary -------\n\n"
        if let cancelledAt { text += "[\(BigKeysReport.percent(cancelledAt))%] " }
        text += "Sampled \(sampled) keys in the keyspace!\n"
        for slot in stride(from: Self.poolSize - 1, through: 0, by: -1) where counters[slot] > 0 {
            text += "hot key found with counter: \(counters[slot])\tkeyname: \(keys[slot] ?? "")\n"
        }
        return text
    }
}
