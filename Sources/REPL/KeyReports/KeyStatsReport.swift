import SentinelClient

/// redis-cli 7.4's `--keystats` report (`keyStats` of redis-cli.c 7.4), line for line:
/// the top key sizes, the biggest key of each type by memory and by length, then the
/// size percentiles, the key-name lengths and a table per type. Key sizes are MEMORY
/// USAGE; lengths are each type's own (STRLEN, LLEN, SCARD, HLEN, ZCARD, XLEN).
struct KeyStatsReport: KeyReport {
    struct TypeFigures {
        var name: String
        var sizeCommand: String?
        var unit: String
        var count: UInt64 = 0
        var totalSize: UInt64 = 0
        var biggest: UInt64 = 0
        /// Raw, as redis-cli keeps it here (`%s`: up to a NUL).
        var biggestKey: [UInt8]?

        mutating func add(_ key: [UInt8], size: UInt64) {
            totalSize &+= size
            count += 1
            if biggest < size {
                biggestKey = key
                biggest = size
            }
        }
    }

    struct TopKey {
        var size: UInt64
        var typeName: String
        var quotedName: String
    }

    static let header = """

        # Scanning the entire keyspace to find the biggest keys and distribution information.
        # Use -i 0.1 to sleep 0.1 sec per 100 SCAN commands (not usually needed).
        # Use --cursor <n> to start the scan at the cursor <n> (usually after a Ctrl-C).
        # Use --top <n> to display <n> top key sizes (default is 10).
        # Ctrl-C to stop the scan.


        """

    /// The key-name length buckets: 32 B, 256 B, 64 KiB, 1 MiB, 16 MiB, 128 MiB, 512 MiB, above.
    static let lengthBounds: [UInt64] = [1 << 5, 1 << 8, 1 << 16, 1 << 20, 16 << 20, 128 << 20, 512 << 20]

    let top: Int
    /// On a terminal every line starts by clearing it, and the running figures redraw in place.
    let terminal: Bool
    private(set) var sampled: UInt64 = 0
    private(set) var keyCount: UInt64 = 0
    private var totalSize: UInt64 = 0
    private var memory: [String: TypeFigures] = [:]
    private var length: [String: TypeFigures] = [:]
    private var order = RedisCliDict(asIn74: true)
    private var topKeys: [TopKey] = []
    private var histogram = KeySizeHistogram()
    private var lengthCounts = [UInt64](repeating: 0, count: lengthBounds.count + 1)
    private var nameBytes: UInt64 = 0
    private var longestName: UInt64 = 0

    init(top: Int, terminal: Bool) {
        self.top = top
        self.terminal = terminal
        let builtin = [("string", "STRLEN", "bytes"), ("list", "LLEN", "items"), ("set", "SCARD", "members"),
                       ("hash", "HLEN", "fields"), ("zset", "ZCARD", "members"), ("stream", "XLEN", "entries")]
        for (name, command, unit) in builtin { addType(name, command, unit) }
    }

    mutating func begin(keyCount: UInt64) { self.keyCount = keyCount }

    /// Each key's type from TYPE's reply: a module's type added as it first appears, nil for a key gone (`none`).
    mutating func track(_ replies: [String]) -> [String?] {
        replies.map { name in
            if order.find(name) { return name }
            guard name != "none" else { return nil }
            addType(name, nil, "?")
            return name
        }
    }

    /// The length command of a key of `type` (nil: none, its length counts 0).
    func lengthCommand(type: String?) -> String? { type.flatMap { length[$0]?.sizeCommand } }

    /// One page's keys with their types, memory sizes and lengths; the warnings (stderr) for values the histogram refused.
    mutating func record(keys: [[UInt8]], types: [String?], sizes: [UInt64], lengths: [UInt64]) -> String {
        var warnings = ""
        for (index, key) in keys.enumerated() {
            guard let type = types[index] else { continue }
            totalSize &+= sizes[index]
            sampled += 1
            insertTop(key, size: sizes[index], type: type)
            memory[type]!.add(key, size: sizes[index])
            length[type]!.add(key, size: lengths[index])
            if sizes[index] > UInt64(Int64.max) || !histogram.record(Int64(sizes[index])) {
                warnings += "Value \(sizes[index]) not added in the hdr histogram.\n"
            }
            addLength(UInt64(key.count))
        }
        return warnings
    }

    /// `updateTopSizes`: sorted from the biggest, ties after the earlier ones, at most `top`.
    private mutating func insertTop(_ key: [UInt8], size: UInt64, type: String) {
        if top != 0 && topKeys.count == top && size <= topKeys.last!.size { return }
        let position = topKeys.firstIndex { size > $0.size } ?? topKeys.count
        let name = String(decoding: ReplyRenderer.quoted(key), as: UTF8.self)
        topKeys.insert(TopKey(size: size, typeName: String(decoding: Array(type.utf8.prefix(9)), as: UTF8.self), quotedName: name), at: position)
        if topKeys.count == top + 1 { topKeys.removeLast() }
    }

    private mutating func addLength(_ size: UInt64) {
        nameBytes &+= size
        longestName = max(longestName, size)
        let bucket = Self.lengthBounds.firstIndex { size <= $0 } ?? Self.lengthBounds.count
        lengthCounts[bucket] += 1
    }

    private mutating func addType(_ name: String, _ command: String?, _ unit: String) {
        order.add(name)
        memory[name] = TypeFigures(name: name, sizeCommand: command, unit: unit)
        length[name] = TypeFigures(name: name, sizeCommand: command, unit: unit)
    }

    // MARK: the lines

    /// `displayKeyStats`: the running figures; `redraw` moves the cursor back over them (a terminal, mid-scan).
    func runningFigures(redraw: Bool) -> String {
        var lines = progress()
        lines.append("Keys size:    \(Self.human(totalSize))")
        lines.append("")
        lines.append("--- Top \(top) key sizes ---")
        for (rank, key) in topKeys.enumerated() {
            lines.append(CFormat.padded(String(rank + 1), 3) + " " + CFormat.padded(Self.human(key.size), 8) + " " + CFormat.padded(key.typeName, -10) + " " + key.quotedName)
        }
        lines.append("")
        lines.append("--- Top size per type ---")
        for name in order.names { if let line = biggestLine(memory[name]!, verb: "is", human: true) { lines.append(line) } }
        lines.append("")
        lines.append("--- Top length and cardinality per type ---")
        for name in order.names { if let line = biggestLine(length[name]!, verb: "has", human: false) { lines.append(line) } }
        return render(lines) + (redraw ? "\u{1b}[\(lines.count)A\r" : "")
    }

    func summary(cancelledAt: Double?) -> String {
        let lines = [""] + Self.sizeDistribution(histogram) + [""] + lengthDistribution() + [""] + typeTable()
        return runningFigures(redraw: false) + render(lines)
    }

    /// After Ctrl-C, as redis-cli says it (printf: no line clearing), and where the cursor holds.
    func interruptedNote(cursor: String, node: ServerAddress?) -> String {
        guard cursor != "0" else { return "" }
        let on = node.map { " (on \($0): a cursor means something on that server only)" } ?? ""
        return "\nScan interrupted:\nUse 'sentinel-repl --keystats --cursor \(cursor)' to restart from the last cursor\(on).\n"
    }

    private func progress() -> [String] {
        let completion = keyCount > 0 ? (sampled < keyCount ? Double(sampled) / Double(keyCount) : 1) : 0
        let bar: String
        if terminal {
            let done = Int((60 * completion).rounded(.toNearestOrAwayFromZero))
            bar = "\u{1b}[32m" + String(repeating: "|", count: done) + "\u{1b}[31m" + String(repeating: "-", count: 60 - done) + "\u{1b}[39m"
        } else {
            bar = "keys scanned"
        }
        return [CFormat.number("%6.2f", completion * 100) + "% " + bar, "Keys sampled: \(sampled)"]
    }

    private func biggestLine(_ type: TypeFigures, verb: String, human: Bool) -> String? {
        guard let key = type.biggestKey else { return nil }
        let name = String(decoding: key.prefix { $0 != 0 }, as: UTF8.self)
        let size = human || type.unit == "bytes" ? Self.human(type.biggest) : "\(type.biggest) \(type.unit)"
        return CFormat.padded(type.name, -10) + " " + name + " \(verb) " + size
    }

    /// `displayKeyStatsSizeDist`.
    static func sizeDistribution(_ histogram: KeySizeHistogram) -> [String] {
        var lines = ["Key size Percentile Total keys", "-------- ---------- -----------"]
        for row in histogram.rows {
            lines.append(
                CFormat.padded(human(UInt64(row.highestEquivalentValue)), 8) + " " + CFormat.number("%9.4f", row.percentile) + "% "
                    + CFormat.padded(String(row.cumulativeCount), 11))
        }
        let mean = human(truncated(histogram.mean)), deviation = human(truncated(histogram.standardDeviation))
        lines.append("Note: 0.01% size precision, Mean: \(mean), StdDeviation: \(deviation)")
        return lines
    }

    private func lengthDistribution() -> [String] {
        var lines = ["Key name length Percentile Total keys", "--------------- ---------- -----------"]
        var total: UInt64 = 0
        for (index, bound) in Self.lengthBounds.enumerated() where lengthCounts[index] > 0 {
            total += lengthCounts[index]
            lines.append(
                CFormat.padded(Self.human(min(longestName, bound)), 15) + " "
                    + CFormat.number("%9.4f", 100 * Double(total) / Double(sampled)) + "% " + CFormat.padded(String(total), 11))
        }
        if total < sampled { lines.append("           inf " + CFormat.number("%9.4f", 100.0) + "% " + CFormat.padded(String(sampled), 11)) }
        let average = sampled > 0 ? Self.human(nameBytes / sampled) : "0"
        lines.append("Total key length is \(Self.human(nameBytes)) (\(average) avg)")
        return lines
    }

    private func typeTable() -> [String] {
        var lines = [
            "Type        Total keys  Keys % Tot size Avg size  Total length/card Avg ln/card",
            "--------- ------------ ------- -------- -------- ------------------ -----------",
        ]
        for name in order.names {
            let size = memory[name]!
            guard size.count > 0 else { continue }
            var totalLength = " - ", averageLength = " - "
            if let lengths = length[name], lengths.sizeCommand != nil, lengths.count > 0 {
                let average = Double(lengths.totalSize) / Double(lengths.count)
                if lengths.unit == "bytes" {
                    totalLength = Self.human(lengths.totalSize)
                    averageLength = Self.human(UInt64(average.rounded(.toNearestOrAwayFromZero)))
                } else {
                    totalLength = "\(lengths.totalSize) \(lengths.unit)"
                    averageLength = CFormat.number("%.2f", average)
                }
            }
            let share = sampled > 0 ? 100 * Double(size.count) / Double(sampled) : 0
            lines.append(
                CFormat.padded(name, -10) + " " + CFormat.padded(String(size.count), 11) + " " + CFormat.number("%6.2f", share) + "% "
                    + CFormat.padded(Self.human(size.totalSize), 8) + " " + CFormat.padded(Self.human(size.totalSize / size.count), 8) + " "
                    + CFormat.padded(totalLength, 18) + " " + CFormat.padded(averageLength, 11))
        }
        return lines
    }

    /// `cleanPrintfln` for each line: on a terminal, the line is cleared first.
    private func render(_ lines: [String]) -> String {
        lines.map { (terminal ? "\u{1b}[2K\r" : "") + $0 + "\n" }.joined()
    }

    /// C's conversion of a double to `long long`: toward zero.
    private static func truncated(_ value: Double) -> UInt64 { value.isFinite && value > 0 ? UInt64(value.rounded(.towardZero)) : 0 }

    /// `bytesToHuman` of redis-cli 7.4.
    static func human(_ value: UInt64) -> String {
        let n = Double(value)
        switch value {
        case ..<1024: return "\(value)B"
        case ..<(1 << 20): return CFormat.number("%.2f", n / 1024) + "K"
        case ..<(1 << 30): return CFormat.number("%.2f", n / Double(1 << 20)) + "M"
        case ..<(1 << 40): return CFormat.number("%.2f", n / Double(1 << 30)) + "G"
        default: return CFormat.number("%.2f", n / Double(1 << 40)) + "T"
        }
    }
}
