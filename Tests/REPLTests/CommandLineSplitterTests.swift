import Testing

@testable import REPL

/// Splitting as redis-cli's sdssplitargs does; lines without quotes take a faster path
/// that must split them the same way.
@Suite struct CommandLineSplitterTests {
    private func split(_ text: String) throws -> [String] {
        try CommandLineSplitter.split(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func plainAndQuotedWords() throws {
        #expect(try split("SET key:1 value:1") == ["SET", "key:1", "value:1"])
        #expect(try split("  \tGET\u{0B}k\u{0C} \r") == ["GET", "k"])
        #expect(try split("") == [] && split("   ") == [])
        #expect(try split("SET k \"a b\\n\"") == ["SET", "k", "a b\n"])
        #expect(try split("SET k 'it\\'s'") == ["SET", "k", "it's"])
        #expect(try split("SET k \"\\x41\"") == ["SET", "k", "A"])
        #expect(throws: CommandLineSplitter.InvalidArguments.self) { try split("SET k \"open") }
        #expect(throws: CommandLineSplitter.InvalidArguments.self) { try split("SET k \"a\"b") }
    }

    /// Random lines of spaces and other bytes, no quotes: the words are the runs of
    /// non-space bytes, as the general path finds them.
    @Test func theFastPathSplitsAsTheGeneralOne() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [32, 9, 10, 11, 12, 13, 0, 92, 120, 65, 200, 255, 58]
        for _ in 0..<2000 {
            let line = (0..<Int.random(in: 0...24, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let expected = line.split(whereSeparator: { [32, 9, 10, 11, 12, 13].contains($0) }).map(Array.init)
            #expect(try CommandLineSplitter.split(line) == expected, "\(line)")
        }
    }

    /// Blank is having no words: a line of any sdssplitargs spaces, not only spaces and tabs.
    @Test func aLineWithNoWordsIsBlank() {
        #expect(SplitLine(Array(" \t\r\u{0B}\u{0C}".utf8)).isBlank)
        #expect(SplitLine([]).isBlank)
        #expect(!SplitLine(Array(" x ".utf8)).isBlank)
        #expect(!SplitLine(Array("\"open".utf8)).isBlank, "a line that cannot be split is an error, not blank")
    }
}
