import Dispatch
import Logging
import NIOPosix
import RESP
import SentinelClient

#if canImport(Glibc)
    import Glibc
#endif

/// The command line's options as given, before the environment fills gaps.
public struct REPLOptions: Sendable {
    public var sentinels: [String] = []
    public var masterName: String
    public var command: [String] = []
    public var database = 0
    public var user: String?
    public var password: String?
    public var askPassword = false
    public var sentinelUser: String?
    public var sentinelPassword: String?
    public var resp3 = false
    public var mode: ReplyRenderer.Mode?
    public var exitOnErrorReply = false
    public var historyFile: String?
    /// `-r`: how many times the command line's command runs (negative: until Ctrl-C).
    public var repeatCount = 1
    /// `-i`: seconds between repetitions (`-r`, `N command`).
    public var repeatInterval: Double = 0
    /// `--events`: topology notices on stderr outside the prompt.
    public var events = false
    /// `-t`: seconds a reply may take before its command is reported in doubt; nil: no bound.
    public var timeout: Double?
    /// Client log lines on stderr from this level on (`--verbose` is `.debug`); nil: none.
    public var logLevel: Logger.Level?
    /// `-u URL` (else env `SENTINEL_REPL_URL`, else a URL in the master name's place):
    /// sentinels, master name, db and credentials in one (see `resolvingURL`).
    public var url: String?
    /// The URL `resolvingURL` read, and whether it was on the command line (`ps` shows it).
    var sentinelURL: SentinelURL?
    var urlOnCommandLine = false
    /// The sentinels and credentials came from a URL (the hints say where to fix them).
    var usesURL: Bool { sentinelURL != nil }
    /// `--replica`: a read-only session on a healthy replica.
    public var replica = false
    /// `--tls` and its files, for the master and replicas.
    public var tls = TLSOptions()
    /// `--sentinel-tls`: its files are `--sentinel-cacert/-cert/-key`, else the data nodes'.
    public var sentinelTLS = TLSOptions()

    /// `masterName` empty: not given (a URL names it).
    public init(masterName: String) { self.masterName = masterName }

    /// The options with a URL read into them: `-u URL` (then every word after the options
    /// is the command), or a URL in the master name's place, or env `SENTINEL_REPL_URL`
    /// when neither and no `-s` is given (then a first word equal to the URL's master
    /// name is taken as the name, as without a URL; the other words are the command).
    /// A URL excludes `-s`, `--user` and `-a`; its db wins over `-n`.
    public func resolvingURL() throws(UsageError) -> REPLOptions {
        var resolved = self
        let text: String
        if let url {
            text = url
            if !masterName.isEmpty { resolved.command = [masterName] + command }
            resolved.urlOnCommandLine = true
        } else if SentinelURL.looksLikeURL(masterName) {
            text = masterName
            resolved.urlOnCommandLine = true
        } else if sentinels.isEmpty, let env = ProcessEnvironment.value("SENTINEL_REPL_URL"), !env.isEmpty {
            text = env
        } else {
            if masterName.isEmpty { throw UsageError(message: "give the master name (or -u URL, or env SENTINEL_REPL_URL)") }
            return self
        }
        guard sentinels.isEmpty, user == nil, password == nil, !askPassword else {
            throw UsageError(message: "a Sentinel URL carries the sentinels and credentials: leave out -s, --user, -a and --askpass")
        }
        let parsed: SentinelURL
        do { parsed = try SentinelURL(text) } catch { throw UsageError(message: error.description) }
        let fromEnvironment = !resolved.urlOnCommandLine
        if fromEnvironment, !masterName.isEmpty, masterName != parsed.masterName { resolved.command = [masterName] + command }
        resolved.sentinelURL = parsed
        resolved.masterName = parsed.masterName
        if let database = parsed.database { resolved.database = database }
        return resolved
    }

    /// The sentinels to ask: `-s` in order, else env `SENTINEL_REPL_SENTINELS`, else the default.
    /// Throws a usage error that names the address that does not parse.
    public func sentinelAddresses() throws(UsageError) -> [ServerAddress] {
        var texts = sentinels
        if texts.isEmpty, let env = ProcessEnvironment.value("SENTINEL_REPL_SENTINELS") {
            texts = env.split(separator: ",").map { String($0).trimmingSpaces }
        }
        if texts.isEmpty { texts = ["127.0.0.1:26379"] }
        var addresses: [ServerAddress] = []
        for text in texts {
            guard let address = ServerAddress(text, defaultPort: 26379) else {
                throw UsageError(message: "'\(text)' is not a sentinel address (host:port)")
            }
            addresses.append(address)
        }
        return addresses
    }
}

/// redis-cli's TLS options for one kind of server.
public struct TLSOptions: Sendable, Equatable {
    public var enabled = false
    /// `--cacert`: PEM file of the CAs to trust (default: the system's).
    public var caCertificateFile: String?
    /// `--cacertdir`: directory of hashed CA files (`openssl rehash`).
    public var caCertificateDirectory: String?
    /// `--cert` and `--key`: a client certificate for servers that ask for one.
    public var certificateFile: String?
    public var keyFile: String?
    /// `--sni`: the name sent and checked against the certificate instead of the host.
    public var serverName: String?
    /// `--insecure`: no certificate check at all.
    public var insecure = false
    public init() {}

    /// The sentinels' options: their own files where given, else the data nodes'.
    public func forSentinels(enabled: Bool, caCertificateFile: String?, certificateFile: String?, keyFile: String?)
        -> TLSOptions
    {
        var sentinels = self
        sentinels.enabled = enabled
        sentinels.serverName = nil
        sentinels.caCertificateFile = caCertificateFile ?? self.caCertificateFile
        if certificateFile != nil || keyFile != nil {
            sentinels.certificateFile = certificateFile
            sentinels.keyFile = keyFile
        }
        return sentinels
    }
}

/// A mistake on the command line (exit 2).
public struct UsageError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// sentinel-repl from options to exit status: the modes, signals, and the
/// ordered shutdown, which is written once, in `run`.
public enum Program {
    /// Runs the REPL; returns the exit status.
    public static func run(_ given: REPLOptions) async -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let options: REPLOptions
        let configuration: SentinelClientConfiguration
        do {
            options = try given.resolvingURL()
            configuration = try clientConfiguration(options)
        } catch {
            Session.standardError.write("sentinel-repl: \(error)\n")
            return 2
        }
        let interactive = options.command.isEmpty && isatty(0) == 1 && isatty(1) == 1
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = SentinelClient(configuration: configuration, eventLoopGroup: group, logger: logger(options.logLevel))
        let session = Session(client: client, options: sessionOptions(options))

        let (status, editor) = await withTaskGroup(of: Void.self) { tasks -> (Int32, LineEditor?) in
            tasks.addTask { await client.run() }
            let outcome = await runMode(options, interactive: interactive, session: session, client: client)
            // The ordered shutdown. Input has stopped (the mode returned) and the
            // session cancelled its in-flight work and gave its connection back;
            // now the watchers stop and every connection closes.
            await client.shutdown()
            return outcome
        }
        // Then the event loop, then history, then the terminal.
        try? await group.shutdownGracefully()
        if let editor {
            if let file = session.options.historyFile { editor.saveHistory(to: file) }
            editor.close()
        }
        return status
    }

    /// Runs the mode once the first discovery found a master; returns its status and
    /// the editor, if the prompt made one (the caller closes it, after the client).
    private static func runMode(
        _ options: REPLOptions, interactive: Bool, session: Session, client: SentinelClient
    ) async -> (Int32, LineEditor?) {
        do {
            _ = try await client.verifiedMaster()
            if options.replica { try await session.startOnReplica() }
        } catch {
            Session.standardError.write("sentinel-repl: \(error)\(hint(for: error, options))\n")
            return (1, nil)
        }
        if !options.command.isEmpty {
            return (await InputDriver.oneShot(options.command, repeat: options.repeatCount, session: session), nil)
        }
        guard interactive else { return (await InputDriver.lines(from: LineSource(fd: 0), session: session), nil) }
        // Made only now, so the terminal keeps its settings while the sentinels are
        // asked (Ctrl-C then ends the process as it is); from here on it is put back
        // on every path, a crash included.
        let editor = LineEditor(program: "sentinel-repl", output: session.output, completer: session.completer())
        let status = await withSignalsHandled(session: session, editor: editor) {
            await InputDriver.interactive(editor: editor, historyFile: session.options.historyFile, session: session)
        }
        return (status, editor)
    }

    /// SIGINT interrupts a running command; SIGTERM and SIGHUP end the session as
    /// Ctrl-D does; SIGWINCH tells the editor the terminal's new size. The handling
    /// ends with `body`.
    private static func withSignalsHandled(
        session: Session, editor: LineEditor, _ body: () async -> Int32
    ) async -> Int32 {
        let signals = SignalStream([SIGINT, SIGTERM, SIGHUP, SIGWINCH])
        defer { signals.cancel() }
        let delivered = signals.stream
        return await withTaskGroup(of: Void.self) { tasks -> Int32 in
            tasks.addTask {
                for await number in delivered {
                    switch number {
                    case SIGWINCH: editor.terminalResized()
                    case SIGINT: await session.interrupt()
                    default:
                        editor.requestShutdown()
                        await session.interrupt()
                    }
                }
            }
            let status = await body()
            tasks.cancelAll()
            return status
        }
    }

    /// What the person can change on this command line, for the errors that need it.
    static func hint(for error: SentinelClientError, _ options: REPLOptions) -> String {
        let url = options.usesURL
        switch error.code {
        case .tlsFailed: return tlsHint(error.attempts.compactMap { if case .tls(let f) = $0.reason { f } else { nil } }, options)
        case .noSentinelReachable where !options.sentinelTLS.enabled && !url && lostConnections(error):
            return " (a TLS-only sentinel closes plaintext connections: --sentinel-tls)"
        case .noVerifiedMaster where !options.tls.enabled && !url && lostConnections(error):
            return " (a TLS-only server closes plaintext connections: --tls)"
        case .noSentinelReachable where url: return " (the URL's host[:port] list)"
        case .sentinelAuthenticationFailed where url: return " (the URL's sentinel_user and sentinel_pass)"
        case .masterAuthenticationFailed where url: return " (the URL's user:password@)"
        case .noSentinelReachable: return " (sentinels: -s host:port, or env SENTINEL_REPL_SENTINELS)"
        case .sentinelAuthenticationFailed: return " (--sentinel-user, --sentinel-pass or env SENTINEL_REPL_SENTINEL_AUTH)"
        case .masterAuthenticationFailed: return " (--user, --pass, --askpass or env REDISCLI_AUTH)"
        default: return ""
        }
    }

    private static func lostConnections(_ error: SentinelClientError) -> Bool {
        error.attempts.contains { if case .connectionLost = $0.reason { true } else { false } }
    }

    private static func tlsHint(_ failures: [TLSFailure], _ options: REPLOptions) -> String {
        let certificate = options.tls.certificateFile != nil || options.sentinelTLS.certificateFile != nil
        if failures.contains(.plaintextServer) || failures.contains(where: { if case .handshakeTimedOut = $0 { true } else { false } }) {
            return " (for a server without TLS, leave out --tls or --sentinel-tls)"
        }
        if failures.contains(.closedAfterHandshake) || failures.contains(.closedDuringHandshake), !certificate {
            return " (a server with tls-auth-clients yes wants --cert and --key)"
        }
        return " (--cacert or --cacertdir for the CA that signed them, --sni for another name, --insecure to skip the check)"
    }

    static func clientConfiguration(_ options: REPLOptions) throws(UsageError) -> SentinelClientConfiguration {
        var configuration: SentinelClientConfiguration
        if let url = options.sentinelURL {
            do { configuration = try SentinelClientConfiguration(url: url) } catch { throw UsageError(message: error.description) }
        } else {
            configuration = SentinelClientConfiguration(sentinels: try options.sentinelAddresses(), masterName: options.masterName)
        }
        if options.password != nil || (options.urlOnCommandLine && configuration.dataCredentials != nil) {
            Session.standardError.write(
                "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n")
        }
        // What a URL carries comes first; then the options and the environment.
        var dataPassword = options.password ?? ProcessEnvironment.value("REDISCLI_AUTH")
        if options.askPassword { dataPassword = readPasswordWithoutEcho(prompt: "Please input password: ") }
        if configuration.dataCredentials == nil, let pass = dataPassword {
            configuration.dataCredentials = Credentials(user: options.user, password: pass)
        }
        if configuration.sentinelCredentials == nil,
            let pass = options.sentinelPassword ?? ProcessEnvironment.value("SENTINEL_REPL_SENTINEL_AUTH")
        {
            configuration.sentinelCredentials = Credentials(user: options.sentinelUser, password: pass)
        }
        let urlAsksTLS = options.sentinelURL?.tls == true
        if options.tls.enabled || urlAsksTLS { configuration.tls = try options.tls.settings(optionPrefix: "") }
        if options.sentinelTLS.enabled || urlAsksTLS {
            configuration.sentinelTLS = try options.sentinelTLS.settings(optionPrefix: "sentinel-")
        }
        configuration.database = options.database
        configuration.protocolVersion = options.resp3 ? .resp3 : .resp2
        configuration.clientName = "sentinel-repl"
        configuration.commandTimeout = options.timeout.map { .nanoseconds(Int64($0 * 1e9)) }
        // One command needs no watchers; a session, a repeat and --events follow failovers.
        configuration.followFailovers = options.command.isEmpty || options.events || options.repeatCount != 1
        return configuration
    }

    static func sessionOptions(_ options: REPLOptions) -> SessionOptions {
        let mode = options.mode ?? (isatty(1) == 0 ? .raw : .tty)
        var session = SessionOptions(
            masterName: options.masterName, database: options.database, mode: mode,
            historyFile: historyFile(options.historyFile))
        session.exitOnErrorReply = options.exitOnErrorReply
        session.repeatInterval = options.repeatInterval
        session.eventsOnStderr = options.events
        return session
    }

    private static func historyFile(_ option: String?) -> String? {
        let path = option ?? ProcessEnvironment.value("SENTINEL_REPL_HISTFILE")
            ?? ProcessEnvironment.value("HOME").map { "\($0)/.sentinel_repl_history" }
        guard let path, path != "/dev/null", !path.isEmpty else { return nil }
        return path
    }

    /// The client's log on stderr, with timestamps; none without a level.
    static func logger(_ level: Logger.Level?) -> Logger {
        guard let level else { return Logger(label: "sentinel-repl") { _ in SwiftLogNoOpLogHandler() } }
        var logger = Logger(label: "sentinel-repl") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        return logger
    }

    static func readPasswordWithoutEcho(prompt: String) -> String? {
        Session.standardError.write(prompt)
        var saved = termios()
        let isTerminal = tcgetattr(0, &saved) == 0
        if isTerminal {
            var silent = saved
            silent.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(0, TCSANOW, &silent)
        }
        defer {
            if isTerminal { tcsetattr(0, TCSANOW, &saved) }
            Session.standardError.write("\n")
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(0, &byte, 1) == 1, byte != 10 { line.append(byte) }
        if line.last == 13 { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
    }
}

/// The process environment, read in one place.
public enum ProcessEnvironment {
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

/// Signals as an async sequence: each delivery of one of `numbers` is yielded,
/// without a task per signal. Their default actions are off until `cancel`.
final class SignalStream {
    let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]
    private let continuation: AsyncStream<Int32>.Continuation

    init(_ numbers: [Int32]) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.stream = stream
        self.continuation = continuation
        sources = numbers.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { @Sendable in continuation.yield(number) }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
        continuation.finish()
    }
}
