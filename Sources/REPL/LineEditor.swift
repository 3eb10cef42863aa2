import CLibedit
import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// libedit, confined to one dedicated thread. Every call into libedit runs
/// there; other threads talk to it through a lock-protected state and a
/// wake-up pipe that the character reader polls beside stdin.
package final class LineEditor: Sendable {
    struct Shared {
        var prompt = "> "
        var notices: [String] = []
        var editing = false
        var shutdownRequested = false
        var resized = false
        /// After `close`: nothing more reaches libedit or the wake-up pipe.
        var closed = false
    }

    let shared = NIOLockedValueBox(Shared())
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let thread: EditorThread
    /// Owned by the editor thread only.
    let local: EditorThreadState
    let output: TerminalOutput
    let completer: (@Sendable (String) -> Completion)?
    let hinter: (@Sendable (String) -> String?)?

    package init(
        program: String, output: TerminalOutput, historySize: Int = 1000,
        completer: (@Sendable (String) -> Completion)? = nil, hinter: (@Sendable (String) -> String?)? = nil
    ) {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        wakeRead = fds[0]
        wakeWrite = fds[1]
        self.output = output
        self.completer = completer
        self.hinter = hinter
        thread = EditorThread()
        local = EditorThreadState()
        thread.runAndWait { [self] in setUp(program: program, historySize: historySize) }
    }

    // MARK: Any thread

    /// Reads one line on the editor thread.
    package func readLine() async -> EditorInput {
        await withCheckedContinuation { continuation in
            thread.run { [self] in continuation.resume(returning: readOnEditorThread()) }
        }
    }

    /// The prompt, and notices to show above it; while a line is being edited they
    /// appear in one redraw, with the half-typed line kept. When no line is being
    /// edited the notices are written at once.
    package func setPrompt(_ prompt: String, notices: [String]) {
        let (editing, closed) = shared.withLockedValue { state in
            state.prompt = prompt
            if state.editing { state.notices += notices }
            return (state.editing, state.closed)
        }
        if closed { return }
        if editing {
            wake()
        } else if !notices.isEmpty {
            output.write(notices.map { $0 + "\n" }.joined())
        }
    }

    /// The terminal's size changed (SIGWINCH): libedit learns it before its next redraw.
    package func terminalResized() {
        shared.withLockedValue { $0.resized = true }
        wake()
    }

    /// Makes a waiting `readLine` return `.endOfInput` (SIGTERM, SIGHUP).
    package func requestShutdown() {
        shared.withLockedValue { $0.shutdownRequested = true }
        wake()
    }

    /// Drops input that arrived while commands ran (the rest of a paste after Ctrl-C),
    /// and what keeps arriving until the terminal has been quiet for 100 ms (at most
    /// 3 s); returns how many lines that was, a partial last line counted.
    package func discardTypeahead() async -> Int {
        // Awaited, not waited for: no thread of the concurrency pool blocks meanwhile.
        await withCheckedContinuation { continuation in
            thread.run { [self] in
                continuation.resume(returning: dropTypeahead())
            }
        }
    }

    /// On the editor thread.
    private func dropTypeahead() -> Int {
        // The LF of a CR LF split by a read does not end a line of its own.
        var counter = LineCounter(afterCR: local.lineEndedInCR)
        counter.add(local.buffer[local.bufferStart..<local.bufferEnd])
        local.bufferStart = local.bufferEnd
        let deadline = ContinuousClock.now + .seconds(3)
        var scratch = [UInt8](repeating: 0, count: 65536)
        var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0)]
        while !local.endOfInput, ContinuousClock.now < deadline, poll(&fds, 1, 100) > 0 {
            let n = Glibc.read(0, &scratch, scratch.count)
            if n <= 0 { break }
            // A paste's closing marker after its last line is not a line.
            counter.add(scratch[0..<(n - Self.removePasteMarkers(&scratch, in: 0..<n))])
        }
        local.lineEndedInCR = counter.endsInCR
        return counter.lines
    }

    /// One job for all of a paste's lines, not one each.
    package func addHistory(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        thread.run { [self] in
            for line in lines { _ = sr_history_enter(local.history, line) }
        }
    }

    package func loadHistory(from path: String) {
        thread.runAndWait { [self] in _ = sr_history_load(local.history, path) }
    }

    /// Writes the history file with mode 0600 (created so before anything is written).
    package func saveHistory(to path: String) {
        thread.runAndWait { [self] in
            let fd = open(path, O_WRONLY | O_CREAT, 0o600)
            if fd >= 0 {
                fchmod(fd, 0o600)
                Glibc.close(fd)
            }
            _ = sr_history_save(local.history, path)
        }
    }

    /// Ends libedit, restores the terminal as it was, and stops the editor thread.
    /// Safe to call more than once.
    package func close() {
        let wasClosed = shared.withLockedValue { state in
            defer { state.closed = true }
            return state.closed
        }
        if wasClosed { return }
        thread.runAndWait { [self] in
            if let el = local.el { el_end(el) }
            if var original = local.originalSettings { tcsetattr(0, TCSANOW, &original) }
            sr_terminal_guard_disarm()
            if let history = local.history { history_end(history) }
            local.el = nil
            local.history = nil
            free(local.promptBuffer)
            local.promptBuffer = nil
        }
        thread.stop()
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    /// The pipe is written under the lock that `close` takes: never after it is closed.
    private func wake() {
        shared.withLockedValue { state in
            guard !state.closed else { return }
            var byte: UInt8 = 1
            _ = Glibc.write(wakeWrite, &byte, 1)
        }
    }

    // MARK: Editor thread

    private func setUp(program: String, historySize: Int) {
        var original = termios()
        if tcgetattr(0, &original) == 0 {
            local.originalSettings = original
            // A trap or a crash from here on still gives the person their terminal back.
            sr_terminal_guard_arm(&original)
        }
        guard let el = sr_el_init(program) else { return }
        local.el = el
        local.history = sr_history_init()
        _ = sr_history_setsize(local.history, Int32(historySize))
        _ = sr_history_setunique(local.history, 1)
        _ = sr_el_set_clientdata(el, Unmanaged.passUnretained(self).toOpaque())
        _ = sr_el_set_editor(el, "emacs")
        _ = sr_el_set_signal(el, 0)
        _ = sr_el_set_history(el, local.history)
        _ = sr_el_set_prompt(el) { el in LineEditor.from(el)?.promptCString() }
        _ = sr_el_set_getcfn(el) { el, character in
            guard let editor = LineEditor.from(el), let character else { return -1 }
            return editor.readCharacter(into: character)
        }
        // Ctrl-C clears the line instead of raising SIGINT while editing.
        _ = sr_el_settty(el, "-d", "-isig", nil)
        // When el_gets returns, libedit restores its "execute" mode, with echo and
        // canonical input by default: a paste arriving before keepInputQuiet would be
        // echoed raw. Keep that mode quiet too.
        _ = sr_el_settty(el, "-x", "-icanon", "-echo")
        // Input arrives as the terminal sends it: CR, LF or CR LF each end one line
        // (with ICRNL a pasted CR LF became two line ends).
        for mode in ["-d", "-x"] { _ = sr_el_settty(el, mode, "-icrnl", "-inlcr") }
        _ = sr_el_addfn(el, "sr-interrupt", "abandon the line") { el, _ in
            LineEditor.from(el)?.local.interrupted = true
            return UInt8(CC_NEWLINE)
        }
        _ = sr_el_bind(el, "^C", "sr-interrupt")
        _ = sr_el_addfn(el, "sr-complete", "complete a command name") { el, _ in
            LineEditor.from(el)?.complete() ?? UInt8(CC_ERROR)
        }
        _ = sr_el_bind(el, "^I", "sr-complete")
        _ = sr_el_bind(el, "^R", "em-inc-search-prev")
        keepInputQuiet()
    }

    private static func from(_ el: OpaquePointer?) -> LineEditor? {
        guard let el, let data = sr_el_get_clientdata(el) else { return nil }
        return Unmanaged<LineEditor>.fromOpaque(data).takeUnretainedValue()
    }

    private func readOnEditorThread() -> EditorInput {
        guard let el = local.el else { return .endOfInput }
        // A burst that already holds whole lines is a paste: no editing needed.
        let waiting = takeCompleteLines()
        if !waiting.isEmpty { return .batch(waiting, firstShown: false) }
        let stop = shared.withLockedValue { state in
            state.editing = !state.shutdownRequested
            return state.shutdownRequested
        }
        if stop { return .endOfInput }
        local.interrupted = false
        local.listedFor = nil
        applyResize()
        var count: Int32 = 0
        let line = el_gets(el, &count)
        // libedit ends every line in LF; the LF of a CR LF must not end another.
        local.lineEndedInCR = local.lastByteRead == 13
        shared.withLockedValue { $0.editing = false }
        keepInputQuiet()
        flushNotices()
        if local.interrupted {
            output.write("^C\n")
            return .interrupted
        }
        guard let line, count > 0 else {
            // Ctrl-D (or a shutdown) at the prompt: end its line, so the shell's prompt starts on a fresh one.
            output.write("\n")
            return .endOfInput
        }
        var bytes = Array(UnsafeRawBufferPointer(start: line, count: Int(count)))
        while bytes.last == 10 || bytes.last == 13 { bytes.removeLast() }
        let more = takeCompleteLines()
        if !more.isEmpty { return .batch([bytes] + more, firstShown: true) }
        return .line(String(decoding: bytes, as: UTF8.self))
    }

    /// Complete lines (ended by CR, LF or CR LF) waiting in the input buffer, plus
    /// whatever more of the burst is readable now; a partial last line stays for the editor.
    private func takeCompleteLines() -> [[UInt8]] {
        var lines: [[UInt8]] = []
        while lines.count < Self.maxBurstLines {
            if local.lineEndedInCR, local.bufferStart < local.bufferEnd {
                // The LF of a CR LF that a read split: not an empty line of its own.
                if local.buffer[local.bufferStart] == 10 { local.bufferStart += 1 }
                local.lineEndedInCR = false
                continue
            }
            let start = local.bufferStart
            guard let end = Self.lineEnd(in: local.buffer, from: start, before: local.bufferEnd) else {
                if !readMoreIfReady() { break }
                continue
            }
            lines.append(Array(local.buffer[start..<end]))
            var next = end + 1
            if local.buffer[end] == 13, next < local.bufferEnd, local.buffer[next] == 10 { next += 1 }
            local.lineEndedInCR = local.buffer[end] == 13 && end + 1 == local.bufferEnd
            local.bufferStart = next
        }
        return lines
    }

    static let maxBurstLines = 4096

    /// Where the first CR or LF from `start` is, if one comes before `limit`. (On the
    /// buffer's bytes, not the thread state's property: each look at that is an access check.)
    private static func lineEnd(in buffer: [UInt8], from start: Int, before limit: Int) -> Int? {
        buffer.withUnsafeBufferPointer { bytes in
            (start..<limit).first { bytes[$0] == 10 || bytes[$0] == 13 }
        }
    }

    /// Appends to the input buffer what stdin has ready now, without waiting.
    private func readMoreIfReady() -> Bool {
        guard !local.endOfInput else { return false }
        var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0)]
        guard poll(&fds, 1, 0) > 0 else { return false }
        if local.bufferStart > 0 {
            let kept = Array(local.buffer[local.bufferStart..<local.bufferEnd])
            local.buffer.replaceSubrange(0..<kept.count, with: kept)
            local.bufferEnd = kept.count
            local.bufferStart = 0
        }
        if local.bufferEnd == local.buffer.count { local.buffer += [UInt8](repeating: 0, count: local.buffer.count) }
        let n = local.buffer.withUnsafeMutableBytes { raw in
            Glibc.read(0, raw.baseAddress! + local.bufferEnd, raw.count - local.bufferEnd)
        }
        guard n > 0 else { return false }
        let scanFrom = max(local.bufferStart, local.bufferEnd - 5)  // a marker cut by the previous read
        local.bufferEnd += n
        local.bufferEnd -= Self.removePasteMarkers(&local.buffer, in: scanFrom..<local.bufferEnd)
        return true
    }

    /// Removes bracketed-paste markers (`ESC [200~`, `ESC [201~`) from `range` of
    /// `buffer`, moving what follows down; returns how many bytes went. The editor
    /// never asks for bracketed paste, but a terminal left in that mode sends them,
    /// and they must not reach a command.
    static func removePasteMarkers(_ buffer: inout [UInt8], in range: Range<Int>) -> Int {
        // Almost every read holds no ESC at all.
        guard let firstEscape = buffer[range].firstIndex(of: 27) else { return 0 }
        var read = firstEscape
        var write = firstEscape
        while read < range.upperBound {
            if read + 6 <= range.upperBound, buffer[read] == 27, buffer[read + 1] == 91, buffer[read + 2] == 50,
                buffer[read + 3] == 48, buffer[read + 4] == 48 || buffer[read + 4] == 49, buffer[read + 5] == 126
            {
                read += 6
                continue
            }
            buffer[write] = buffer[read]
            write += 1
            read += 1
        }
        return read - write
    }

    /// Between two lines the terminal neither echoes nor waits for Enter (but Ctrl-C
    /// still interrupts): a paste arriving while commands run is not echoed raw over
    /// their replies, and keys typed ahead, Ctrl-D included, wait for the editor.
    private func keepInputQuiet() {
        guard var quiet = local.originalSettings else { return }
        quiet.c_lflag &= ~tcflag_t(ECHO | ICANON)
        quiet.c_iflag &= ~tcflag_t(ICRNL | INLCR | IGNCR)
        withUnsafeMutableBytes(of: &quiet.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(0, TCSANOW, &quiet)
    }

    private func promptCString() -> UnsafeMutablePointer<CChar>? {
        let prompt = shared.withLockedValue { $0.prompt }
        free(local.promptBuffer)
        local.promptBuffer = strdup(Self.markingEscapes(prompt))
        return local.promptBuffer
    }

    /// The prompt with each escape sequence (a colour) between two `\1`, which libedit
    /// prints without counting toward the width (EL_PROMPT_ESC).
    static func markingEscapes(_ prompt: String) -> String {
        var marked = ""
        var inEscape = false
        for scalar in prompt.unicodeScalars {
            if scalar == "\u{1B}" {
                inEscape = true
                marked += "\u{1}"
            }
            marked.unicodeScalars.append(scalar)
            if inEscape && scalar != "\u{1B}" && scalar != "[" && (0x40...0x7E).contains(scalar.value) {
                inEscape = false
                marked += "\u{1}"
            }
        }
        return marked
    }

    /// The EL_GETCFN reader: one character from stdin (buffered, UTF-8 decoded),
    /// while watching the wake-up pipe for notices, prompt changes and shutdown.
    private func readCharacter(into character: UnsafeMutablePointer<wchar_t>) -> Int32 {
        var scalar: UInt32 = 0
        var remaining = 0
        while true {
            guard let byte = nextByte() else { return local.endOfInput ? 0 : -1 }
            if remaining > 0 {
                if byte & 0xC0 == 0x80 {
                    scalar = scalar << 6 | UInt32(byte & 0x3F)
                    remaining -= 1
                    if remaining == 0 {
                        character.pointee = wchar_t(bitPattern: scalar)
                        return 1
                    }
                    continue
                }
                // A broken sequence (a Latin-1 byte, say): drop it, and read this byte
                // afresh, so that an Enter after it is not lost.
                remaining = 0
            }
            switch byte {
            case 0..<0x80:
                character.pointee = wchar_t(byte)
                return 1
            case 0xC0..<0xE0: scalar = UInt32(byte & 0x1F); remaining = 1
            case 0xE0..<0xF0: scalar = UInt32(byte & 0x0F); remaining = 2
            case 0xF0..<0xF8: scalar = UInt32(byte & 0x07); remaining = 3
            default: continue  // a stray continuation byte: skip it
            }
        }
    }

    /// The next byte of stdin, or nil at end of input or shutdown.
    func nextByte() -> UInt8? {
        while local.bufferStart == local.bufferEnd {
            if local.endOfInput { return nil }
            drawHint()
            var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            eraseHint()
            if ready < 0 { if errno == EINTR { continue } else { return nil } }
            if fds[1].revents != 0 {
                drainWakePipe()
                if shared.withLockedValue({ $0.shutdownRequested }) {
                    local.endOfInput = true
                    return nil
                }
                applyResize()
                redrawWithNotices()
            }
            if fds[0].revents != 0 {
                let n = local.buffer.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    local.endOfInput = true
                    return nil
                }
                local.bufferStart = 0
                local.bufferEnd = n - Self.removePasteMarkers(&local.buffer, in: 0..<n)
            }
        }
        let byte = local.buffer[local.bufferStart]
        local.bufferStart += 1
        if local.lineEndedInCR {
            local.lineEndedInCR = false
            if byte == 10 { return nextByte() }  // the LF of the last line's CR LF
        }
        local.lastByteRead = byte
        return byte
    }

    /// libedit handles no signals here (EL_SIGNAL off): it is told of a new size.
    private func applyResize() {
        let resized = shared.withLockedValue { state in
            defer { state.resized = false }
            return state.resized
        }
        if resized, let el = local.el { el_resize(el) }
    }

    private func drainWakePipe() {
        var scratch = [UInt8](repeating: 0, count: 64)
        while Glibc.read(wakeRead, &scratch, 64) > 0 {}
    }

    /// Clears the prompt line, prints the notices, and lets libedit redraw the
    /// (possibly new) prompt with the half-typed line.
    private func redrawWithNotices() {
        let notices = shared.withLockedValue { state in
            defer { state.notices.removeAll() }
            return state.notices
        }
        if !notices.isEmpty {
            output.write("\r\u{1B}[K" + notices.map { $0 + "\n" }.joined())
        } else {
            output.write("\r\u{1B}[K")
        }
        if let el = local.el { _ = sr_el_refresh(el) }
    }

    private func flushNotices() {
        let notices = shared.withLockedValue { state in
            defer { state.notices.removeAll() }
            return state.notices
        }
        for notice in notices { output.write(notice + "\n") }
    }
}
