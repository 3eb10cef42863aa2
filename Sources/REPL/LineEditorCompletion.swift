import CLibedit

#if canImport(Glibc)
    import Glibc
#endif

/// TAB and the argument hint, on the editor thread.
extension LineEditor {
    /// The text of the line before the cursor, and whether the cursor is at its end.
    private func lineBeforeCursor() -> (String, atEnd: Bool)? {
        guard let el = local.el, let info = el_line(el)?.pointee else { return nil }
        let length = info.cursor - info.buffer
        let before = String(
            decoding: UnsafeRawBufferPointer(start: info.buffer, count: length).bindMemory(to: UInt8.self), as: UTF8.self)
        return (before, info.cursor == info.lastchar)
    }

    /// TAB: one candidate is inserted; several insert their common prefix, or when they
    /// have none longer than the word are listed in columns, once (another TAB on the
    /// same text and candidates rings the bell). Above `listWithoutAsking` the person is asked first.
    func complete() -> UInt8 {
        guard let el = local.el, let completer, let (before, _) = lineBeforeCursor() else { return UInt8(CC_ERROR) }
        let completion = completer(before)
        guard !completion.candidates.isEmpty else { return UInt8(CC_REFRESH_BEEP) }
        let common = Self.commonPrefix(completion.candidates, caseSensitive: completion.caseSensitive)
        let typed = String(before.suffix(completion.replacing))
        // A shared start that opens a quote is not inserted alone: TAB could not go on from it.
        let extends = common.count > typed.count && !(common.hasPrefix("\"") && !typed.hasPrefix("\""))
        if completion.candidates.count == 1 || extends {
            // libedit counts characters as wide characters: one per Unicode scalar.
            el_deletestr(el, Int32(typed.unicodeScalars.count))
            let insertion = completion.candidates.count == 1 ? common + " " : common
            _ = el_insertstr(el, insertion)
            local.listedFor = nil
            return UInt8(CC_REFRESH)
        }
        // Listed once: again only when more candidates came (a scan that finished later).
        let listing = "\(before)\u{0}\(completion.candidates.count)"
        guard local.listedFor != listing else { return UInt8(CC_REFRESH_BEEP) }
        local.listedFor = listing
        let count = completion.candidates.count
        if count > Self.listWithoutAsking {
            output.write("\nDisplay all \(count) possibilities? (y or n)")
            local.hintsOff = true
            let answer = nextByte()
            local.hintsOff = false
            guard answer == UInt8(ascii: "y") || answer == UInt8(ascii: "Y") || answer == UInt8(ascii: " ") else {
                output.write("\n")
                return UInt8(CC_REDISPLAY)
            }
        }
        output.write("\n" + Self.columns(completion.candidates, width: Int(sr_el_columns(el))))
        return UInt8(CC_REDISPLAY)
    }

    /// Above this many candidates TAB asks before listing them, as bash does.
    static let listWithoutAsking = 100

    /// `words` in columns down then across, as bash lists completions: each column as
    /// wide as the widest word and two spaces, as many as fit in `width`.
    static func columns(_ words: [String], width: Int) -> String {
        let cell = (words.map(\.count).max() ?? 0) + 2
        var perRow = max(1, width / cell)
        if perRow > 1 && perRow * cell == width { perRow -= 1 }  // the last column stays free
        let rows = (words.count + perRow - 1) / perRow
        var text = ""
        for row in 0..<rows {
            var line = ""
            for index in stride(from: row, to: words.count, by: rows) {
                let word = words[index]
                line += index + rows < words.count ? word + String(repeating: " ", count: cell - word.count) : word
            }
            text += line + "\n"
        }
        return text
    }

    static func commonPrefix(_ words: [String], caseSensitive: Bool = false) -> String {
        guard var prefix = words.first else { return "" }
        for word in words.dropFirst() {
            while !(caseSensitive ? word.hasPrefix(prefix) : word.lowercased().hasPrefix(prefix.lowercased())) { prefix.removeLast() }
        }
        return prefix
    }

    /// Draws the argument hint greyed after the cursor, when the cursor ends the line
    /// and the hint fits in what is left of the terminal's row (cut to fit); libedit
    /// knows nothing of it, so it is erased before the next key reaches libedit.
    func drawHint() {
        guard let hinter, !local.hintsOff, !local.hintShown, let el = local.el, let (before, atEnd) = lineBeforeCursor(),
            atEnd, !before.isEmpty, let hint = hinter(before)
        else { return }
        let prompt = Self.visibleWidth(shared.withLockedValue { $0.prompt })
        guard let typed = Self.columnsTaken(before), let prompt else { return }
        let width = Int(sr_el_columns(el))
        let room = width - (prompt + typed) % width - 1
        guard room > 0 else { return }
        let shown = String(hint.unicodeScalars.prefix(room))
        output.write("\u{1B}[90m\(shown)\u{1B}[0m\u{1B}[\(shown.unicodeScalars.count)D")
        local.hintShown = true
    }

    /// Columns a terminal gives `text`, escape sequences (colours) taking none; nil when
    /// a character's width is unknown (a control character).
    static func visibleWidth(_ text: String) -> Int? {
        var plain = ""
        var inEscape = false
        for scalar in text.unicodeScalars {
            if scalar == "\u{1B}" {
                inEscape = true
            } else if inEscape {
                if scalar != "[" && (0x40...0x7E).contains(scalar.value) { inEscape = false }
            } else {
                plain.unicodeScalars.append(scalar)
            }
        }
        return columnsTaken(plain)
    }

    /// Columns `text` takes (wcwidth: 2 for CJK and most emoji, 0 for combining marks).
    static func columnsTaken(_ text: String) -> Int? {
        var columns = 0
        for scalar in text.unicodeScalars {
            let width = sr_wcwidth(wchar_t(bitPattern: scalar.value))
            if width < 0 { return nil }
            columns += Int(width)
        }
        return columns
    }

    func eraseHint() {
        guard local.hintShown else { return }
        output.write("\u{1B}[K")
        local.hintShown = false
    }
}
