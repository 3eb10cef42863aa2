/// redis-cli's `dict` of type names (`--bigkeys`, `--memkeys`), for the one thing its
/// reports take from it: the order they list the types in. That order is the dict's
/// bucket order under SipHash-1-2 with redis-cli's all-zero seed, and it moves as the
/// table grows and rehashes incrementally (a step on each add and each lookup), so the
/// table is kept here as `dict.c` of Redis 7.0 keeps it, or of 7.4 (`--keystats`),
/// whose lookups rehash the bucket they hit when it is still in the old table.
struct RedisCliDict {
    private var tables: [[[String]]] = [[], []]  // each bucket's chain, head first
    private var used = [0, 0]
    private var rehashIndex = -1
    /// Redis 7.4's `dict.c`: a lookup rehashes its own bucket (`_dictBucketRehash`) when it can.
    private let rehashesBucketOnAccess: Bool

    init(asIn74: Bool = false) {
        rehashesBucketOnAccess = asIn74
    }

    private var isRehashing: Bool { rehashIndex != -1 }

    /// `dictAdd` of a new name (a name already there is left as it is).
    mutating func add(_ name: String) {
        let hash = Self.hash(name)
        if isRehashing { rehashOnAccess(hash) }
        expandIfNeeded()
        for table in 0...(isRehashing ? 1 : 0) where tables[table][bucket(hash, table)].contains(name) { return }
        let table = isRehashing ? 1 : 0
        tables[table][bucket(hash, table)].insert(name, at: 0)
        used[table] += 1
    }

    /// `dictFind`: only its rehash step matters here.
    mutating func find(_ name: String) -> Bool {
        guard used[0] + used[1] > 0 else { return false }
        let hash = Self.hash(name)
        if isRehashing { rehashOnAccess(hash) }
        return (0...(isRehashing ? 1 : 0)).contains { tables[$0][bucket(hash, $0)].contains(name) }
    }

    /// The names in `dictNext` order: table 0's buckets, then table 1's while rehashing.
    var names: [String] {
        tables.flatMap { $0.flatMap { $0 } }
    }

    private func bucket(_ hash: UInt64, _ table: Int) -> Int {
        Int(hash & UInt64(tables[table].count - 1))
    }

    private mutating func expandIfNeeded() {
        guard !isRehashing else { return }
        if tables[0].isEmpty {
            tables[0] = Array(repeating: [], count: 4)
        } else if used[0] >= tables[0].count {
            var size = 4
            while size < used[0] + 1 { size *= 2 }
            tables[1] = Array(repeating: [], count: size)
            rehashIndex = 0
        }
    }

    private mutating func rehashOnAccess(_ hash: UInt64) {
        let index = bucket(hash, 0)
        if rehashesBucketOnAccess && index >= rehashIndex && !tables[0][index].isEmpty {
            move(bucket: index)
            completeRehashIfDone()
        } else {
            rehashStep()
        }
    }

    /// `rehashEntriesInBucketAtIndex`: each name to the head of its new bucket.
    private mutating func move(bucket index: Int) {
        for name in tables[0][index] {
            tables[1][bucket(Self.hash(name), 1)].insert(name, at: 0)
            used[0] -= 1
            used[1] += 1
        }
        tables[0][index] = []
    }

    private mutating func completeRehashIfDone() {
        guard used[0] == 0 else { return }
        tables = [tables[1], []]
        used = [used[1], 0]
        rehashIndex = -1
    }

    /// `dictRehash(d, 1)`: one bucket of table 0 moved to table 1 (at most 10 empty ones visited).
    private mutating func rehashStep() {
        var emptyVisits = 10
        if used[0] != 0 {
            while tables[0][rehashIndex].isEmpty {
                rehashIndex += 1
                emptyVisits -= 1
                if emptyVisits == 0 { return }
            }
            move(bucket: rehashIndex)
            rehashIndex += 1
        }
        completeRehashIfDone()
    }

    /// SipHash-1-2 with an all-zero key (`dictGenHashFunction` of Redis's `siphash.c`).
    static func hash(_ text: String) -> UInt64 {
        let bytes = Array(text.utf8)
        var v0: UInt64 = 0x736f_6d65_7073_6575
        var v1: UInt64 = 0x646f_7261_6e64_6f6d
        var v2: UInt64 = 0x6c79_6765_6e65_7261
        var v3: UInt64 = 0x7465_6462_7974_6573
        func round() {
            v0 &+= v1; v1 = rotate(v1, 13); v1 ^= v0; v0 = rotate(v0, 32)
            v2 &+= v3; v3 = rotate(v3, 16); v3 ^= v2
            v0 &+= v3; v3 = rotate(v3, 21); v3 ^= v0
            v2 &+= v1; v1 = rotate(v1, 17); v1 ^= v2; v2 = rotate(v2, 32)
        }
        let whole = bytes.count - bytes.count % 8
        for start in stride(from: 0, to: whole, by: 8) {
            let m = littleEndian(bytes[start..<start + 8])
            v3 ^= m
            round()
            v0 ^= m
        }
        let b = (UInt64(bytes.count) << 56) | littleEndian(bytes[whole...])
        v3 ^= b
        round()
        v0 ^= b
        v2 ^= 0xff
        round()
        round()
        return v0 ^ v1 ^ v2 ^ v3
    }

    private static func rotate(_ x: UInt64, _ b: UInt64) -> UInt64 { (x << b) | (x >> (64 - b)) }

    private static func littleEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reversed().reduce(0) { ($0 << 8) | UInt64($1) }
    }
}
