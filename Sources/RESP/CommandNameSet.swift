/// Command names matched against a command's raw words without making a string:
/// for checks that run on every line of a batch.
public struct CommandNameSet: Sendable {
    private let names: [(name: String, bytes: [UInt8])]
    /// For each name length below 32, a bit per first letter (`letterBit`) of the names
    /// that long: most words (`SET` of a pasted batch) are ruled out by one look.
    private let firstLetters: [UInt32]

    /// Commands after which the server talks on its own: the connection is a stream
    /// of messages for good, and waits as long as it likes.
    public static let streamingNames = ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR"]

    /// `names` as Redis spells them, upper-case.
    public init(_ names: [String]) {
        self.names = names.map { (name: $0, bytes: Array($0.utf8)) }
        var firstLetters = [UInt32](repeating: 0, count: 32)
        for entry in self.names where entry.bytes.count < 32 {
            firstLetters[entry.bytes.count] |= Self.letterBit(entry.bytes.first)
        }
        self.firstLetters = firstLetters
    }

    /// The name `word` is, in any letter case, or nil.
    public func match(_ word: ArraySlice<UInt8>) -> String? {
        if word.count < 32, firstLetters[word.count] & Self.letterBit(word.first) == 0 { return nil }
        for entry in names where entry.bytes.count == word.count && Self.word(word, is: entry.bytes) {
            return entry.name
        }
        return nil
    }

    public func match(_ word: [UInt8]) -> String? {
        match(word[...])
    }

    public func contains(_ word: ArraySlice<UInt8>) -> Bool {
        match(word) != nil
    }

    public func contains(_ word: [UInt8]) -> Bool {
        match(word[...]) != nil
    }

    /// One bit for a first byte: a letter's in either case, one for any other byte, one for none.
    private static func letterBit(_ byte: UInt8?) -> UInt32 {
        guard let byte else { return 1 << 27 }
        let folded = byte | 0x20
        return folded >= 97 && folded <= 122 ? 1 << UInt32(folded - 97) : 1 << 26
    }

    /// `word` equals `name` with any of its A-Z letters in lower case.
    /// (A plain loop: it runs for every line of a batch, several times.)
    private static func word(_ word: ArraySlice<UInt8>, is name: [UInt8]) -> Bool {
        guard word.count == name.count else { return false }
        return word.withUnsafeBufferPointer { word in
            name.withUnsafeBufferPointer { name in
                for i in 0..<name.count {
                    let (w, n) = (word[i], name[i])
                    if w != n && !(n >= 65 && n <= 90 && w == n | 0x20) { return false }
                }
                return true
            }
        }
    }
}
