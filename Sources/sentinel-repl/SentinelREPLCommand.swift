import ArgumentParser
import Dispatch
import Logging
import REPL
import RESP
import SentinelClient

#if canImport(Glibc)
    import Glibc
#endif

@main
struct SentinelREPLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sentinel-repl",
        abstract: "A Redis REPL that finds the master through Redis Sentinel and follows failovers.",
        discussion: """
            Interactive when stdin and stdout are terminals; with a command after the
            master name it runs that command once; otherwise it runs the lines of stdin.

            Examples:
              sentinel-repl mymaster
              sentinel-repl -s 10.0.0.1:26379 -s 10.0.0.2:26379 mymaster
              sentinel-repl mymaster LRANGE mylist 0 -1
              REDISCLI_AUTH=secret sentinel-repl --sentinel-pass s3 mymaster < commands.txt

            Exit status: 0 normal; 1 no master reachable, or -e and an error reply; 2 usage error.
            """,
        version: "0.1.0"
    )

    @Option(
        name: [.short, .customLong("sentinel")],
        help: ArgumentHelp(
            "A sentinel to ask, host:port; repeat it, in order (env SENTINEL_REPL_SENTINELS, comma-separated; default 127.0.0.1:26379).",
            valueName: "host:port"))
    var sentinels: [String] = []

    @Option(name: [.customShort("n"), .customLong("db")], help: "Database number.")
    var db: Int = 0

    @Option(name: .customLong("user"), help: "ACL user for the master and replicas.")
    var user: String?

    @Option(
        name: [.customShort("a"), .customLong("pass")],
        help: "Password for the master and replicas (unsafe on a command line; prefer env REDISCLI_AUTH).")
    var password: String?

    @Flag(name: .customLong("askpass"), help: "Read the data-node password from the terminal, without echo.")
    var askPassword = false

    @Option(name: .customLong("sentinel-user"), help: "ACL user for the sentinels.")
    var sentinelUser: String?

    @Option(
        name: .customLong("sentinel-pass"),
        help: "Password for the sentinels (or env SENTINEL_REPL_SENTINEL_AUTH).")
    var sentinelPassword: String?

    @Flag(name: .customShort("2"), help: "Use RESP2 (the default).")
    var resp2 = false

    @Flag(name: .customShort("3"), help: "Use RESP3 (HELLO 3).")
    var resp3 = false

    @Flag(name: .customLong("raw"), help: "Print replies raw (the default when stdout is not a terminal).")
    var raw = false

    @Flag(name: .customLong("no-raw"), help: "Print replies formatted, even when stdout is not a terminal.")
    var noRaw = false

    @Flag(name: .customLong("csv"), help: "Print replies as CSV.")
    var csv = false

    @Flag(name: .customLong("json"), help: "Print replies as JSON (RESP3 unless -2 is given).")
    var json = false

    @Flag(name: .customShort("e"), help: "Exit 1 when a command got an error reply (non-interactive modes).")
    var exitOnError = false

    @Option(
        name: .customLong("history-file"),
        help: "History file (env SENTINEL_REPL_HISTFILE; default ~/.sentinel_repl_history; /dev/null disables).")
    var historyFile: String?

    @Argument(help: "The master name Sentinel monitors.")
    var masterName: String

    @Argument(parsing: .captureForPassthrough, help: "A command to run once, with its arguments.")
    var command: [String] = []

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // Usage errors exit 2, as documented; argument-parser would use 64.
            let code = exitCode(for: error)
            if code != .success && code != ExitCode.failure && !(error is ExitCode) {
                printError(fullMessage(for: error))
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }

    func validate() throws {
        if resp2 && resp3 { throw ValidationError("-2 and -3 exclude each other") }
        if [raw, noRaw, csv, json].filter({ $0 }).count > 1 {
            throw ValidationError("--raw, --no-raw, --csv and --json exclude each other")
        }
        if db < 0 { throw ValidationError("--db takes a number from 0") }
        _ = try sentinelAddresses()
    }

    func sentinelAddresses() throws -> [ServerAddress] {
        var texts = sentinels
        if texts.isEmpty, let env = environment("SENTINEL_REPL_SENTINELS") {
            texts = env.split(separator: ",").map { String($0).trimmed }
        }
        if texts.isEmpty { texts = ["127.0.0.1:26379"] }
        return try texts.map { text in
            guard let address = ServerAddress(text, defaultPort: 26379) else {
                throw ValidationError("'\(text)' is not a sentinel address (host:port)")
            }
            return address
        }
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let interactive = command.isEmpty && isatty(0) == 1 && isatty(1) == 1
        var configuration = SentinelClientConfiguration(sentinels: try sentinelAddresses(), masterName: masterName)
        if password != nil {
            printError("Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.")
        }
        var dataPassword = password ?? environment("REDISCLI_AUTH")
        if askPassword { dataPassword = readPasswordWithoutEcho(prompt: "Please input password: ") }
        if let pass = dataPassword { configuration.dataCredentials = Credentials(user: user, password: pass) }
        if let pass = sentinelPassword ?? environment("SENTINEL_REPL_SENTINEL_AUTH") {
            configuration.sentinelCredentials = Credentials(user: sentinelUser, password: pass)
        }
        configuration.database = db
        configuration.protocolVersion = resp3 || (json && !resp2) ? .resp3 : .resp2
        // One command needs no watchers; a session follows failovers.
        configuration.followFailovers = command.isEmpty

        let client = SentinelClient(
            configuration: configuration, logger: Logger(label: "sentinel-repl") { _ in SwiftLogNoOpLogHandler() })
        do {
            try await client.start()
        } catch {
            await client.shutdown()
            printError("sentinel-repl: \(error)")
            throw ExitCode(1)
        }
        let mode: ReplyRenderer.Mode =
            csv ? .csv : json ? .json : raw || (!noRaw && isatty(1) == 0) ? .raw : .tty
        var options = SessionOptions(masterName: masterName, database: db, mode: mode, historyFile: resolvedHistoryFile())
        options.exitOnErrorReply = exitOnError
        let session = Session(client: client, options: options)

        let status: Int32
        if !command.isEmpty {
            status = await session.runOneShot(command)
            await client.shutdown()
        } else if interactive {
            status = await runInteractive(session, client)
        } else {
            status = await session.runLines(LineSource(fd: 0))
            await client.shutdown()
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// The ordered shutdown: input stops (the loop returned), in-flight work was
    /// cancelled by the session, then the client stops watchers and closes every
    /// connection and its event loops; history is saved; libedit restores the terminal.
    private func runInteractive(_ session: Session, _ client: SentinelClient) async -> Int32 {
        let editor = LineEditor(program: "sentinel-repl", output: session.output, completer: session.completer())
        let signals = SignalHandlers(
            interrupt: { Task { await session.interrupt() } },
            terminate: {
                editor.requestShutdown()
                Task { await session.interrupt() }
            },
            resize: { editor.terminalResized() })
        let status = await session.runInteractive(editor: editor)
        signals.cancel()
        await client.shutdown()
        await session.saveHistory()
        editor.close()
        return status
    }

    private func resolvedHistoryFile() -> String? {
        let path = historyFile ?? environment("SENTINEL_REPL_HISTFILE")
            ?? environment("HOME").map { "\($0)/.sentinel_repl_history" }
        guard let path, path != "/dev/null", !path.isEmpty else { return nil }
        return path
    }
}

/// SIGINT interrupts a running command; SIGTERM and SIGHUP end the session cleanly;
/// SIGWINCH tells the editor the terminal's new size.
final class SignalHandlers {
    private let sources: [DispatchSourceSignal]

    init(
        interrupt: @escaping @Sendable () -> Void, terminate: @escaping @Sendable () -> Void,
        resize: @escaping @Sendable () -> Void
    ) {
        var sources: [DispatchSourceSignal] = []
        for (number, handler) in [(SIGINT, interrupt), (SIGTERM, terminate), (SIGHUP, terminate), (SIGWINCH, resize)] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { @Sendable in handler() }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}

func readPasswordWithoutEcho(prompt: String) -> String? {
    writeStderr(Array(prompt.utf8))
    var saved = termios()
    let isTerminal = tcgetattr(0, &saved) == 0
    if isTerminal {
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(0, TCSANOW, &silent)
    }
    defer {
        if isTerminal { tcsetattr(0, TCSANOW, &saved) }
        writeStderr([10])
    }
    var line: [UInt8] = []
    var byte: UInt8 = 0
    while read(0, &byte, 1) == 1, byte != 10 { line.append(byte) }
    if line.last == 13 { line.removeLast() }
    return String(decoding: line, as: UTF8.self)
}

func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
}

func printError(_ message: String) {
    writeStderr(Array((message + "\n").utf8))
}

func writeStderr(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { raw in _ = write(2, raw.baseAddress!, raw.count) }
}

extension String {
    var trimmed: String {
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
