import RESP

/// redis-cli's `--bigkeys` and `--memkeys` report (`findBigKeys` of redis-cli.c 7.0),
/// line for line: the biggest key of each type as the scan finds it, then the summary.
struct BigKeysReport: KeyReport {
    struct KeyType {
        var name: String
        /// The command that sizes a key of this type; nil for a module's type.
        var sizeCommand: String?
        var unit: String
        var biggest: UInt64 = 0
        var count: UInt64 = 0
        var totalSize: UInt64 = 0
        /// `sdscatrepr` of the biggest key's name.
        var biggestKey: String?
    }

    static let header = """

        # Scanning the entire keyspace to find biggest keys as well as
        # average sizes per key type.  You can use -i 0.1 to sleep 0.1 sec
        # per 100 SCAN commands (not usually needed).


        """

    let memkeys: Bool
    private(set) var types: [String: KeyType] = [:]
    private var order = RedisCliDict()
    private(set) var sampled: UInt64 = 0
    private var keyBytes: UInt64 = 0

    init(memkeys: Bool) {
        self.memkeys = memkeys
        let builtin = [("string", "STRLEN", "bytes"), ("list", "LLEN", "items"), ("set", "SCARD", "members"),
                       ("hash", "HLEN", "fields"), ("zset", "ZCARD", "members"), ("stream", "XLEN", "entries")]
        for (name, command, unit) in builtin { addType(KeyType(name: name, sizeCommand: command, unit: unit)) }
    }

    /// Each key's type as redis-cli tracks it from TYPE's reply: one lookup a key, a
    /// module's type added as it first appears, nil for a key gone meanwhile (`none`).
    mutating func track(_ replies: [String]) -> [String?] {
        replies.map { name in
            if order.find(name) { return name }
            guard name != "none" else { return nil }
            addType(KeyType(name: name, sizeCommand: nil, unit: "?"))
            return name
        }
    }

    /// The command that sizes `key`, or nil when redis-cli sizes it 0 without asking.
    func sizeCommand(for key: [UInt8], type: String?, samples: Int) -> RESPCommand? {
        guard let type, let info = types[type] else { return nil }
        if memkeys {
            let sampling: [[UInt8]] = samples > 0 ? [Array("SAMPLES".utf8), Array(String(samples).utf8)] : []
            return RESPCommand(arguments: [Array("MEMORY".utf8), Array("USAGE".utf8), key] + sampling)
        }
        return info.sizeCommand.map { RESPCommand(arguments: [Array($0.utf8), key]) }
    }

    /// One page's keys with their types and sizes; the lines redis-cli prints for them.
    mutating func record(keys: [[UInt8]], types keyTypes: [String?], sizes: [UInt64], percent: Double) -> String {
        var lines = ""
        for (index, key) in keys.enumerated() {
            guard let name = keyTypes[index], var type = types[name] else { continue }
            let size = sizes[index]
            type.totalSize += size
            type.count += 1
            keyBytes += UInt64(key.count)
            sampled += 1
            if type.biggest < size {
                let quoted = String(decoding: ReplyRenderer.quoted(key), as: UTF8.self)
                type.biggestKey = quoted
                lines += "[\(Self.percent(percent))%] Biggest \(CFormat.padded(type.name, -6)) found so far '\(quoted)' with \(size) \(unit(type))\n"
                type.biggest = size
            }
            types[name] = type
            if sampled % 1_000_000 == 0 { lines += "[\(Self.percent(percent))%] Sampled \(sampled) keys so far\n" }
        }
        return lines
    }

    /// The summary; `cancelledAt` is the progress when Ctrl-C ended the scan.
    func summary(cancelledAt: Double?) -> String {
        var text = "\n-------- summary -------\n\n"
        if let cancelledAt { text += "[\(Self.percent(cancelledAt))%] " }
        text += "Sampled \(sampled) keys in the keyspace!\n"
        let average = keyBytes > 0 ? Double(keyBytes) / Double(sampled) : 0
        text += "Total key length in bytes is \(keyBytes) (avg len \(CFormat.number("%.2f", average)))\n\n"
        let listed = order.names.compactMap { types[$0] }
        for type in listed {
            guard let key = type.biggestKey else { continue }
            text += "Biggest \(CFormat.padded(type.name, 6)) found '\(key)' has \(type.biggest) \(unit(type))\n"
        }
        text += "\n"
        for type in listed {
            let share = sampled > 0 ? 100 * Double(type.count) / Double(sampled) : 0
            let average = type.count > 0 ? Double(type.totalSize) / Double(type.count) : 0
            text += "\(type.count) \(type.name)s with \(type.totalSize) \(unit(type)) (\(Self.percent(share))% of keys, avg size \(CFormat.number("%.2f", average)))\n"
        }
        return text
    }

    /// `%05.2f` of a percentage.
    static func percent(_ value: Double) -> String { CFormat.number("%05.2f", value) }

    private func unit(_ type: KeyType) -> String { memkeys ? "bytes" : type.unit }

    private mutating func addType(_ type: KeyType) {
        order.add(type.name)
        types[type.name] = type
    }
}
