import Dispatch
import Logging
import NIOPosix
import RESP
import SentinelClient
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// sentinel-repl from options to exit status: the modes, signals, and the
/// ordered shutdown, which is written once, in `run`.
package enum Program {
    /// Runs the REPL; returns the exit status.
    package static func run(_ given: REPLOptions) async -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        if given.listDeployments { return listDeployments(configFile: given.configFile) }
        let options: REPLOptions
        let configuration: SentinelClientConfiguration
        do {
            options = try given.resolvingDeployment().resolvingURL()
            configuration = try clientConfiguration(options)
        } catch {
            Session.standardError.write("sentinel-repl: \(error)\n")
            return 2
        }
        if let seconds = options.intrinsicLatency {
            return await IntrinsicLatencyMode.run(seconds: seconds, output: TerminalOutput(fd: 1))
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
        if options.failover {
            return (await FailoverRunner.fromCommandLine(client: client, assumeYes: options.assumeYes, output: session.output), nil)
        }
        if let watch = options.watch {
            let mode = options.mode ?? (isatty(1) == 1 ? .tty : .raw)
            switch watch {
            case .stat:
                let status = await StatMode.run(client: client, interval: options.repeatInterval, output: session.output)
                // Ctrl-C ends it: the shell's prompt goes on a line of its own, as after redis-cli.
                if mode == .tty { session.output.write("\n") }
                return (status, nil)
            case .latency, .latencyHistory:
                let status = await LatencyMode.run(
                    client: client, history: watch == .latencyHistory, interval: options.repeatInterval, mode: mode, output: session.output)
                if mode == .tty { session.output.write("\n") }
                return (status, nil)
            case .latencyDist(let mono):
                return (await LatencyDistMode.run(client: client, interval: options.repeatInterval, mono: mono, output: session.output), nil)
            }
        }
        if let snapshot = options.snapshot {
            return (await RDBMode.run(client: client, file: snapshot.file, functionsOnly: snapshot.functionsOnly, onMaster: snapshot.onMaster), nil)
        }
        if let timeout = options.pipeTimeout {
            return (await PipeMode.run(client: client, replyTimeout: timeout, output: session.output), nil)
        }
        if let scan = options.scan, case .keyStats(let samples, let top) = scan.report {
            let terminal = options.mode.map { $0 == .tty } ?? (isatty(1) == 1)
            return (await KeyStatsMode.run(client: client, options: scan, samples: samples, top: top, terminal: terminal, output: session.output), nil)
        }
        if let scan = options.scan, scan.report == .hotKeys {
            return (await HotKeysMode.run(client: client, options: scan, output: session.output), nil)
        }
        if let scan = options.scan, scan.report != .keys {
            return (await BigKeysMode.run(client: client, options: scan, output: session.output), nil)
        }
        if let scan = options.scan {
            let quoted = options.mode.map { $0 == .tty } ?? (isatty(1) == 1)
            return (await ScanMode.run(client: client, options: scan, quoted: quoted, output: session.output), nil)
        }
        if !options.command.isEmpty {
            return (await InputDriver.oneShot(options.command, repeat: options.repeatCount, session: session), nil)
        }
        guard interactive else { return (await InputDriver.lines(from: LineSource(fd: 0), session: session), nil) }
        // Made only now, so the terminal keeps its settings while the sentinels are
        // asked (Ctrl-C then ends the process as it is); from here on it is put back
        // on every path, a crash included.
        let editor = LineEditor(program: "sentinel-repl", output: session.output, completer: session.completer(), hinter: session.hinter())
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
        // Registered before `body` starts (the sequence's init waits for it): none is missed.
        let delivered = await UnixSignalsSequence(trapping: .sigint, .sigterm, .sighup, .sigwinch)
        return await withTaskGroup(of: Void.self) { tasks -> Int32 in
            tasks.addTask {
                for await signal in delivered {
                    switch signal {
                    case .sigwinch: editor.terminalResized()
                    case .sigint: await session.interrupt()
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
        let urlTLS = options.sentinelURL?.tls == true
        switch error.code {
        case .tlsFailed: return tlsHint(error.attempts.compactMap { if case .tls(let f) = $0.reason { f } else { nil } }, options)
        case .noSentinelReachable where !options.sentinelTLS.enabled && !url && lostConnections(error):
            return " (a TLS-only sentinel closes plaintext connections: --sentinel-tls)"
        case .noSentinelReachable where url && !urlTLS && lostConnections(error):
            return " (a TLS-only sentinel closes plaintext connections: rediss+sentinel://)"
        case .noVerifiedMaster where !options.tls.enabled && !url && lostConnections(error):
            return " (a TLS-only server closes plaintext connections: --tls)"
        case .noVerifiedMaster where url && !urlTLS && lostConnections(error):
            return " (a TLS-only server closes plaintext connections: rediss+sentinel://)"
        case .notASentinel where error.attempts.contains(where: \.reason.isClusterNode):
            return " (for a Cluster, use redis-cli -c)"
        case .noSentinelReachable where options.deployment != nil, .notASentinel where options.deployment != nil:
            return " (the sentinels of [\(options.deployment ?? "")] in the config file, or -s host:port)"
        case .sentinelAuthenticationFailed where options.deployment != nil:
            return " (sentinel-user and sentinel-password-env or -command of [\(options.deployment ?? "")] in the config file, or --sentinel-pass)"
        case .masterAuthenticationFailed where options.deployment != nil:
            return " (user and password-env or password-command of [\(options.deployment ?? "")] in the config file, or --user, --askpass)"
        case .notASentinel where url: return " (the URL's host[:port] list)"
        case .notASentinel: return " (sentinels: -s host:port, or env SENTINEL_REPL_SENTINELS)"
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
            if options.sentinelURL?.tls == true { return " (for a server without TLS, redis+sentinel:// instead of rediss+sentinel://)" }
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
        // What a URL carries comes first; then the options, the deployment and the environment.
        let deployment = options.deployment ?? ""
        let fromDeployment = try options.passwordSource.map { source throws(UsageError) in try source.resolve(deployment: deployment) }
        let sentinelFromDeployment = try options.sentinelPasswordSource.map { source throws(UsageError) in try source.resolve(deployment: deployment) }
        var dataPassword = options.password ?? fromDeployment ?? ProcessEnvironment.value("REDISCLI_AUTH")
        if options.askPassword { dataPassword = readPasswordWithoutEcho(prompt: "Please input password: ") }
        if configuration.dataCredentials == nil, let pass = dataPassword {
            configuration.dataCredentials = Credentials(user: options.user, password: pass)
        }
        if configuration.sentinelCredentials == nil,
            let pass = options.sentinelPassword ?? sentinelFromDeployment ?? ProcessEnvironment.value("SENTINEL_REPL_SENTINEL_AUTH")
        {
            configuration.sentinelCredentials = Credentials(user: options.sentinelUser, password: pass)
        }
        let urlAsksTLS = options.sentinelURL?.tls == true
        if options.tls.enabled || urlAsksTLS { configuration.tls = try options.tls.settings(optionPrefix: "") }
        if options.sentinelTLS.enabled || urlAsksTLS {
            configuration.sentinelTLS = try options.sentinelTLS.settings(optionPrefix: "sentinel-")
        }
        for entry in options.natmap {
            do { try configuration.addressMap.add(entry) } catch { throw UsageError(message: error.description) }
        }
        configuration.database = options.database ?? 0
        configuration.protocolVersion = options.resp3 ? .resp3 : .resp2
        configuration.clientName = "sentinel-repl"
        configuration.commandTimeout = options.timeout.map { .nanoseconds(Int64($0 * 1e9)) }
        if let seconds = options.connectTimeout { configuration.connectTimeout = .nanoseconds(Int64(seconds * 1e9)) }
        if let seconds = options.sentinelTimeout { configuration.sentinelTryTimeout = .nanoseconds(Int64(seconds * 1e9)) }
        // One command needs no watchers; a session, a repeat and --events follow failovers.
        configuration.followFailovers = options.command.isEmpty || options.events || options.repeatCount != 1
        return configuration
    }

    static func sessionOptions(_ options: REPLOptions) -> SessionOptions {
        let mode = options.mode ?? (isatty(1) == 0 ? .raw : .tty)
        var session = SessionOptions(
            masterName: options.masterName, database: options.database ?? 0, mode: mode,
            historyFile: historyFile(options.historyFile))
        session.promptLabel = options.promptLabel.map { PromptLabel(text: $0, colour: options.promptColour) }
        session.exitOnErrorReply = options.exitOnErrorReply
        session.repeatInterval = options.repeatInterval
        session.eventsOnStderr = options.events
        if let level = options.logLevel, level <= .debug { session.eventStyle = .raw }
        session.confirmDangerous = !options.assumeYes
        session.confirmAbove = options.confirmAbove
        return session
    }

    /// `--list-deployments`: the config file's deployments, one line each.
    private static func listDeployments(configFile: String?) -> Int32 {
        do {
            let file = try DeploymentFile.load(DeploymentFile.path(given: configFile))
            TerminalOutput(fd: 1).write(file.deployments.map { $0.summary + "\n" }.joined())
            return 0
        } catch {
            Session.standardError.write("sentinel-repl: \(error)\n")
            return 2
        }
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
