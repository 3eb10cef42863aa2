import Testing

@testable import REPL

/// Bracketed-paste markers are removed from what the editor reads, wherever they fall.
@Suite struct PasteMarkerTests {
    private func stripped(_ text: String, from start: Int = 0) -> String {
        var buffer = Array(text.utf8)
        let removed = LineEditor.removePasteMarkers(&buffer, in: start..<buffer.count)
        return String(decoding: buffer.prefix(buffer.count - removed), as: UTF8.self)
    }

    @Test func markersAroundAPasteAreRemoved() {
        #expect(stripped("\u{1B}[200~SET a 1\rGET a\r\u{1B}[201~") == "SET a 1\rGET a\r")
    }

    @Test func otherEscapeSequencesAreKept() {
        // Arrow keys and a lone ESC belong to libedit.
        #expect(stripped("\u{1B}[A\u{1B}[2~x\u{1B}") == "\u{1B}[A\u{1B}[2~x\u{1B}")
    }

    @Test func onlyTheScannedRangeChanges() {
        #expect(stripped("\u{1B}[200~ab\u{1B}[201~", from: 6) == "\u{1B}[200~ab")
    }
}

/// Lines counted across reads, as the editor drops them after Ctrl-C.
@Suite struct LineCounterTests {
    private func count(_ pieces: [String], afterCR: Bool = false) -> Int {
        var counter = LineCounter(afterCR: afterCR)
        for piece in pieces { counter.add(Array(piece.utf8)[...]) }
        return counter.lines
    }

    @Test func crLfAndCrLfEachEndOneLine() {
        #expect(count(["a\rb\nc\r\nd"]) == 4)
        #expect(count(["a\r", "\nb\r"]) == 2, "a CR LF split by a read is one end")
        #expect(count([""]) == 0)
        #expect(count(["\r\n\r\n"]) == 2)
    }

    @Test func theLFOfACRLFTheEditorSplitIsNoLine() {
        #expect(count(["\nb\r"], afterCR: true) == 1)
        #expect(count(["\nb\r"]) == 2)
        #expect(count([""], afterCR: true) == 0)
    }
}
