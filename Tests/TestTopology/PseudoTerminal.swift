import CPseudoTerminal
import Foundation

/// Runs a program on a pseudo-terminal in a session of its own (so a
/// `kill(0, sig)` from libedit cannot reach the test runner), and lets a test
/// type, read the screen and wait for the exit as a person at a terminal would.
/// stderr goes to a file, so a test can say nothing was printed there.
public final class PseudoTerminal: @unchecked Sendable {
    public let pid: pid_t
    public let master: Int32
    public let stderrPath: String
    private var transcript: [UInt8] = []
    public private(set) var exitStatus: Int32?
    /// Terminal settings when the program started, to compare with those after it exits.
    public let initialSettings: termios

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], columns: UInt16 = 200) throws {
        var name = [CChar](repeating: 0, count: 256)
        let master = sr_open_pty(&name, Int32(name.count))
        guard master >= 0 else { throw TopologyError.spawnFailed("posix_openpt", errno) }
        let slavePath = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var size = winsize(ws_row: 40, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        stderrPath = NSTemporaryDirectory() + "pty-stderr-\(UInt32.random(in: 0...UInt32.max))"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // After setsid, opening the terminal makes it the controlling one.
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, sr_posix_spawn_setsid_flag())
        var env = ProcessInfo.processInfo.environment
        env["TERM"] = "xterm"
        for (key, value) in environment { env[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else { throw TopologyError.spawnFailed(executable, status) }
        self.pid = pid
        self.master = master
        var settings = termios()
        tcgetattr(master, &settings)
        initialSettings = settings
    }

    /// Types text as keystrokes (use "\r" for Enter, "\u{3}" for Ctrl-C, "\u{4}" for Ctrl-D).
    public func type(_ text: String) {
        type(bytes: Array(text.utf8))
    }

    /// Types bytes as they are, valid UTF-8 or not.
    public func type(bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in _ = write(master, raw.baseAddress!, raw.count) }
    }

    /// Everything the program printed so far, escape sequences removed.
    public var screen: String {
        drain(timeoutMilliseconds: 0)
        return Self.stripEscapes(String(decoding: transcript, as: UTF8.self))
    }

    /// Everything the program printed so far, escape sequences (colours) kept.
    public var printed: String {
        drain(timeoutMilliseconds: 0)
        return String(decoding: transcript, as: UTF8.self)
    }

    /// Reads until `text` appears in the output (escapes removed) or `seconds` pass.
    /// With `since` (a `mark()`), only output after that point counts.
    @discardableResult
    public func waitFor(_ text: String, since mark: Int = 0, seconds: Double = 10) -> Bool {
        let found = waitForFirst(seconds: seconds) { $0.dropFirst(mark).contains(text) ? true : nil } ?? false
        if found && text.hasSuffix("> ") { settle() }
        return found
    }

    /// Reads until `find` finds something in the output (escapes removed), and
    /// returns it; nil if nothing was found within `seconds`.
    public func waitForFirst<Found>(seconds: Double = 10, _ find: (String) -> Found?) -> Found? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if let found = find(screen) { return found }
            drain(timeoutMilliseconds: 50)
        } while Date() < deadline
        return find(screen)
    }

    /// Waits until `text` has appeared and a prompt ("> ") follows it: the program
    /// reads again. (A Ctrl-D typed ahead, before the editor reads, is lost by the
    /// terminal's canonical mode, as it would be for a person.)
    /// With `since` (a `mark()`), only output after that point counts.
    @discardableResult
    public func waitForPrompt(after text: String, since mark: Int = 0, seconds: Double = 10) -> Bool {
        let found =
            waitForFirst(seconds: seconds) { screen -> Bool? in
                let current = screen.dropFirst(mark)
                guard let range = current.range(of: text) else { return nil }
                return current[range.upperBound...].contains("> ") ? true : nil
            } ?? false
        if found { settle() }
        return found
    }

    /// Types `line` and Enter, and waits for `reply` and the prompt after it, looking
    /// only at what comes after the line (an earlier identical reply does not count).
    public func enter(_ line: String, thenPromptAfter reply: String, seconds: Double = 10) -> Bool {
        let start = mark()
        type(line + "\r")
        return waitForPrompt(after: reply, since: start, seconds: seconds)
    }

    /// A prompt is drawn just before the editor reads (libedit prints it before it
    /// puts the terminal in raw mode): give it a moment, as a person's reaction would.
    private func settle() { usleep(50_000) }

    /// The length of the output so far, to look only at what comes after it.
    public func mark() -> Int { screen.count }

    /// Counts occurrences of `text` in the output so far.
    public func count(_ text: String) -> Int {
        screen.components(separatedBy: text).count - 1
    }

    /// Waits for the program to exit; returns its status, or nil if it did not within `seconds`.
    public func waitForExit(seconds: Double = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            drain(timeoutMilliseconds: 10)
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                drain(timeoutMilliseconds: 0)
                return exitStatus
            }
        }
        return nil
    }

    public var terminalSettingsNow: termios {
        var settings = termios()
        tcgetattr(master, &settings)
        return settings
    }

    public var stderr: String {
        (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
    }

    /// Kills the program if it still runs and releases the terminal.
    public func close() {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        Foundation.close(master)
        unlink(stderrPath)
    }

    private func drain(timeoutMilliseconds: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var fds = [pollfd(fd: master, events: Int16(POLLIN), revents: 0)]
        var timeout = timeoutMilliseconds
        while poll(&fds, 1, timeout) > 0 {
            let n = read(master, &buffer, buffer.count)
            if n <= 0 { break }
            transcript += buffer[0..<n]
            timeout = 0
        }
    }

    /// Removes CSI sequences and carriage returns, which a person does not read.
    public static func stripEscapes(_ text: String) -> String {
        var out = ""
        var iterator = text.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            if scalar == "\u{1B}" {
                guard let next = iterator.next() else { break }
                if next == "[" {
                    while let c = iterator.next(), !(("@"..."~").contains(c)) {}
                }
                continue
            }
            if scalar == "\r" || scalar == "\u{7}" { continue }
            out.unicodeScalars.append(scalar)
        }
        return out
    }
}

/// The directory of the running test binary, where `swift build` also puts `sentinel-repl`.
public let builtProductsDirectory: String = {
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    return (executable as NSString).deletingLastPathComponent
}()

public var sentinelREPLExecutable: String { builtProductsDirectory + "/sentinel-repl" }
