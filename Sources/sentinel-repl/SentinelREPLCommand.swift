import ArgumentParser
import Logging
import REPL

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
              sentinel-repl redis+sentinel://10.0.0.1,10.0.0.2:26380/mymaster/2 GET k
              sentinel-repl @prod          (a deployment of ~/.config/sentinel-repl/config.toml)
              REDISCLI_AUTH=secret sentinel-repl --sentinel-pass s3 mymaster < commands.txt

            Exit status: 0 normal; 1 no master reachable, a command without a reply, or -e and an error reply; 2 usage error.
            """,
        version: "0.1.0"
    )

    @Option(
        name: [.short, .customLong("sentinel")],
        help: ArgumentHelp(
            "A sentinel to ask, host:port; repeat it or separate with commas, in order (env SENTINEL_REPL_SENTINELS, comma-separated; default 127.0.0.1:26379).",
            valueName: "host:port"))
    var sentinels: [String] = []

    @Option(name: [.customShort("n"), .customLong("db")], help: "Database number (default 0).")
    var db: Int?

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

    @Flag(name: .customLong("quoted-json"), help: "Print replies as JSON with ASCII-safe quoted strings (RESP3 unless -2 is given).")
    var quotedJSON = false

    @Flag(name: .customShort("e"), help: "Exit 1 when a command got an error reply (non-interactive modes).")
    var exitOnError = false

    @Option(
        name: .customLong("history-file"),
        help: "History file (env SENTINEL_REPL_HISTFILE; default ~/.sentinel_repl_history; /dev/null disables).")
    var historyFile: String?

    @Option(
        name: [.customShort("u"), .customLong("url")],
        help: ArgumentHelp(
            "redis+sentinel://[user:pass@]host[:port][,host[:port]...]/master-name[/db][?sentinel_user=U&sentinel_pass=P] in place of -s, the master name, -n and credentials (env SENTINEL_REPL_URL keeps a password out of ps); then every word after the options is the command.",
            valueName: "url"))
    var url: String?

    @Argument(help: "The master name Sentinel monitors, a redis+sentinel:// URL, or @name: a deployment of the config file.")
    var masterName: String?

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "The config file of named deployments (env SENTINEL_REPL_CONFIG; default $XDG_CONFIG_HOME/sentinel-repl/config.toml, else ~/.config/...).",
            valueName: "file"))
    var configFile: String?

    @Flag(name: .customLong("list-deployments"), help: "List the config file's deployments, then exit.")
    var listDeployments = false

    @Argument(parsing: .captureForPassthrough, help: "A command to run once, with its arguments.")
    var command: [String] = []

    @Flag(
        name: .customLong("replica"),
        help: "Open a read-only session on a healthy replica (round-robin); ':use master' and ':use replica [host:port]' switch at the prompt.")
    var replica = false

    @Flag(
        name: .customLong("failover"),
        help: "Run a failover that loses no acknowledged write (shows the plan and asks first), then exit.")
    var failover = false

    @Flag(
        name: .customLong("yes"),
        help: "Do not ask first: neither --failover nor the prompt before a dangerous command (env SENTINEL_REPL_YES=1).")
    var yes = false

    // Optional, its default written in the help: ArgumentParser describes a default value
    // through reflection at every start (about 0.17 M instructions each). Also --repeat, --interval.
    @Option(
        name: .customLong("confirm-above"),
        help: ArgumentHelp("At the prompt, KEYS and whole-key reads (SMEMBERS, HGETALL, LRANGE k 0 -1...) ask first above N keys or elements. (default: 100000)", valueName: "n"))
    var confirmAboveOption: Int?
    var confirmAbove: Int { confirmAboveOption ?? 100_000 }

    @Flag(name: .customLong("stat"), help: "Print a rolling line of the master's stats (INFO) every -i seconds, as redis-cli --stat, following failovers.")
    var stat = false

    @Flag(name: .customLong("latency"), help: "Measure the master's latency (PING every 10 ms), as redis-cli --latency, following failovers.")
    var latency = false

    @Flag(name: .customLong("latency-history"), help: "Like --latency, one line per -i seconds (15 by default).")
    var latencyHistory = false

    @Flag(
        name: .customLong("latency-dist"),
        help: "Show the master's latency as a spectrum, one coloured line per -i seconds (1 by default; xterm 256 colours), as redis-cli --latency-dist, following failovers.")
    var latencyDist = false

    @Flag(name: .customLong("mono"), help: "With --latency-dist: a grey palette instead of colours.")
    var mono = false

    @Option(
        name: .customLong("intrinsic-latency"),
        help: ArgumentHelp("Measure this machine's own latency (how long the kernel keeps a process from running) for this many seconds, as redis-cli does; no server is asked.", valueName: "seconds"))
    var intrinsicLatency: Int?

    @Flag(name: .customLong("scan"), help: "List the keys (SCAN) as redis-cli --scan does, from a healthy replica unless --master, then exit.")
    var scan = false

    @Flag(name: .customLong("bigkeys"), help: "Find the biggest key of each type, as redis-cli --bigkeys does, from a healthy replica unless --master.")
    var bigkeys = false

    @Flag(name: .customLong("memkeys"), help: "Find the keys that use the most memory (MEMORY USAGE), as redis-cli --memkeys does.")
    var memkeys = false

    @Flag(
        name: .customLong("keystats"),
        help: "Key sizes and lengths, their distribution and the top keys, as redis-cli 7.4 --keystats reports them (any server version), from a healthy replica unless --master.")
    var keystats = false

    @Option(name: .customLong("keystats-samples"), help: ArgumentHelp("With --keystats: MEMORY USAGE's SAMPLES (implies --keystats; 0: every element).", valueName: "n"))
    var keystatsSamples: Int?

    @Option(name: .customLong("top"), help: ArgumentHelp("With --keystats: how many of the biggest keys to list (10 by default; 0: none).", valueName: "n"))
    var top: Int?

    @Flag(name: .customLong("hotkeys"), help: "Find the hot keys (LFU counters, OBJECT FREQ) as redis-cli --hotkeys does; on the master, which keeps them.")
    var hotkeys = false

    @Option(name: .customLong("memkeys-samples"), help: ArgumentHelp("With --memkeys: MEMORY USAGE's SAMPLES (implies --memkeys).", valueName: "n"))
    var memkeysSamples: Int?

    @Option(name: .customLong("pattern"), help: ArgumentHelp("Keys matching this pattern (SCAN MATCH), with --scan, --bigkeys, --memkeys, --keystats, --hotkeys.", valueName: "pattern"))
    var pattern: String?

    @Option(
        name: .customLong("quoted-pattern"),
        help: ArgumentHelp("Same as --pattern, written as a quoted string (\\x00 escapes) for bytes a shell cannot pass.", valueName: "pattern"))
    var quotedPattern: String?

    @Option(name: .customLong("count"), help: ArgumentHelp("SCAN's COUNT hint, with --scan, --bigkeys, --memkeys, --keystats, --hotkeys.", valueName: "n"))
    var count: Int?

    @Option(name: .customLong("cursor"), help: ArgumentHelp("Start the scan at this cursor (as a Ctrl-C of --scan printed it: it means something on that server only).", valueName: "n"))
    var cursor: String?

    @Flag(name: .customLong("master"), help: "With --scan, --bigkeys, --memkeys, --keystats, --rdb, --functions-rdb: read the master, not a healthy replica.")
    var onMaster = false

    @Option(
        name: .customLong("rdb"),
        help: ArgumentHelp("Save a snapshot (RDB) of the dataset to this file ('-': stdout), from a healthy replica unless --master, as redis-cli --rdb.", valueName: "file"))
    var rdb: String?

    @Option(
        name: .customLong("functions-rdb"),
        help: ArgumentHelp("Like --rdb, with the functions alone (Redis 7).", valueName: "file"))
    var functionsRdb: String?

    @Flag(
        name: .customLong("pipe"),
        help: "Send the RESP on standard input to the master, pipelined, as redis-cli --pipe (stops at a failover and says what ran).")
    var pipe = false

    @Option(
        name: .customLong("pipe-timeout"),
        help: ArgumentHelp("With --pipe: give up when no reply came this many seconds after the input ended (0: wait forever).", valueName: "n"))
    var pipeTimeout: Int?

    @Option(
        name: .customLong("natmap"),
        help: ArgumentHelp(
            "Dial an address Sentinel names elsewhere (an SSH tunnel, Docker, kubectl port-forward); repeatable. FROM and TO are host:port, or a host for every port.",
            valueName: "from=to"))
    var natmap: [String] = []

    @Flag(name: .customLong("tls"), help: "Connect to the master and replicas over TLS.")
    var tls = false

    @Option(name: .customLong("sni"), help: "Server name for TLS (SNI) and the certificate check, instead of the host Sentinel returns.")
    var sni: String?

    @Option(name: .customLong("cacert"), help: ArgumentHelp("PEM file of the CAs to trust (default: the system's).", valueName: "file"))
    var cacert: String?

    @Option(name: .customLong("cacertdir"), help: ArgumentHelp("Directory of trusted CA files, hashed (openssl rehash).", valueName: "dir"))
    var cacertdir: String?

    @Option(name: .customLong("cert"), help: ArgumentHelp("Client certificate (PEM) for servers that ask for one.", valueName: "file"))
    var cert: String?

    @Option(name: .customLong("key"), help: ArgumentHelp("Private key (PEM) of --cert.", valueName: "file"))
    var key: String?

    @Flag(name: .customLong("insecure"), help: "Skip the TLS certificate check (for tests only).")
    var insecure = false

    @Flag(name: .customLong("sentinel-tls"), help: "Connect to the sentinels over TLS, with the TLS files above unless given below.")
    var sentinelTLS = false

    @Option(name: .customLong("sentinel-cacert"), help: ArgumentHelp("PEM file of the CAs the sentinels' certificates are checked with.", valueName: "file"))
    var sentinelCacert: String?

    @Option(name: .customLong("sentinel-cert"), help: ArgumentHelp("Client certificate (PEM) for the sentinels.", valueName: "file"))
    var sentinelCert: String?

    @Option(name: .customLong("sentinel-key"), help: ArgumentHelp("Private key (PEM) of --sentinel-cert.", valueName: "file"))
    var sentinelKey: String?

    @Option(
        name: [.customShort("r"), .customLong("repeat")],
        parsing: .unconditional,  // -r -1: the count, not an option
        help: "Run the command N times (-1: until Ctrl-C), one reply each, following failovers. (default: 1)")
    var repeatOption: Int?
    var repeatCount: Int { repeatOption ?? 1 }

    @Option(
        name: [.customShort("i"), .customLong("interval")],
        help: ArgumentHelp(
            "Seconds (decimals allowed) between repetitions (-r, 'N command'), --stat lines, --latency-history ranges and --latency-dist lines; a sleep after each page of --scan (each 100 of --bigkeys, --memkeys, --keystats, --hotkeys). (default: 0.0)",
            valueName: "seconds"))
    var intervalOption: Double?
    var interval: Double { intervalOption ?? 0 }

    @Option(
        name: [.customShort("t"), .customLong("timeout")],
        help: ArgumentHelp(
            "Seconds (decimals allowed) a reply may take before its command is reported in doubt; default: no bound, a command waits as long as its master lives and is the master.",
            valueName: "seconds"))
    var timeout: Double?

    @Option(
        name: .customLong("connect-timeout"),
        help: ArgumentHelp("Bound on connecting to a master or replica, its TLS handshake included (seconds, decimals allowed; 2 by default).", valueName: "seconds"))
    var connectTimeout: Double?

    @Option(
        name: .customLong("sentinel-timeout"),
        help: ArgumentHelp("Bound on one try at a sentinel (connect, TLS, its answer) and on the ROLE check of the master it names (seconds; 1 by default).", valueName: "seconds"))
    var sentinelTimeout: Double?

    @Flag(name: .customLong("events"), help: "Outside the prompt, print Sentinel's events and failovers on stderr, one line each, with a timestamp.")
    var events = false

    @Flag(name: .customLong("verbose"), help: "Log what the client does (discovery, ROLE checks, events, reconnects) to stderr.")
    var verbose = false

    @Option(
        name: .customLong("log-level"),
        help: "Log the client's lines from this level on to stderr: trace, debug, info, notice, warning, error.")
    var logLevel: Logger.Level?

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
        if [raw, noRaw, csv, json, quotedJSON].filter({ $0 }).count > 1 {
            throw ValidationError("--raw, --no-raw, --csv, --json and --quoted-json exclude each other")
        }
        if let db, db < 0 { throw ValidationError("--db takes a number from 0") }
        if repeatCount == 0 || repeatCount < -1 { throw ValidationError("--repeat takes a count from 1, or -1 for until Ctrl-C") }
        let year = "at most 31536000 (a year)"
        if !REPLOptions.isValidSeconds(interval, orZero: true) { throw ValidationError("--interval takes a number of seconds from 0, \(year)") }
        for (name, seconds) in [("timeout", timeout), ("connect-timeout", connectTimeout), ("sentinel-timeout", sentinelTimeout)] {
            if let seconds, !REPLOptions.isValidSeconds(seconds) { throw ValidationError("--\(name) takes a number of seconds above 0, \(year)") }
        }
        do { _ = try options.sentinelAddresses() } catch { throw ValidationError(error.message) }
        let tlsFiles = [cacert, cacertdir, cert, key, sni].contains { $0 != nil } || insecure
        let urlAsksTLS = [url, masterName].contains { $0?.lowercased().hasPrefix("rediss+sentinel://") == true }
        if listDeployments && (masterName != nil || url != nil) { throw ValidationError("--list-deployments runs alone: no master name, no URL") }
        // A deployment may turn TLS on: with one, the file says whether these are used.
        let fileMayAskTLS = deployment != nil
        if tlsFiles && !(tls || sentinelTLS || urlAsksTLS || fileMayAskTLS) {
            throw ValidationError("--cacert, --cacertdir, --cert, --key, --sni and --insecure need --tls, --sentinel-tls or a rediss+sentinel:// URL")
        }
        if [sentinelCacert, sentinelCert, sentinelKey].contains(where: { $0 != nil }) && !(sentinelTLS || urlAsksTLS || fileMayAskTLS) {
            throw ValidationError("--sentinel-cacert, --sentinel-cert and --sentinel-key need --sentinel-tls or a rediss+sentinel:// URL")
        }
        if sni != nil && !(tls || urlAsksTLS || fileMayAskTLS) { throw ValidationError("--sni is for the data nodes: it needs --tls or a rediss+sentinel:// URL") }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
        if confirmAbove < 0 { throw ValidationError("--confirm-above takes a count from 0") }
        try validateModes()
        try validateScan()
        if (sentinelCert == nil) != (sentinelKey == nil) { throw ValidationError("--sentinel-cert and --sentinel-key go together") }
    }

    /// The modes that run on their own, instead of the prompt: at most one, with no command.
    private func validateModes() throws {
        let modes = [
            ("--failover", failover), ("--stat", stat), ("--latency", latency), ("--latency-history", latencyHistory),
            ("--latency-dist", latencyDist), ("--intrinsic-latency", intrinsicLatency != nil),
            ("--scan", scan), ("--bigkeys", bigkeys), ("--memkeys", memkeys || memkeysSamples != nil), ("--keystats", keystats || keystatsSamples != nil), ("--hotkeys", hotkeys), ("--pipe", pipe),
            ("--rdb", rdb != nil), ("--functions-rdb", functionsRdb != nil),
        ].filter(\.1).map(\.0)
        if modes.count > 1 { throw ValidationError("\(modes.joined(separator: ", ")): one mode at a time") }
        if let mode = modes.first, replica || !command.isEmpty {
            throw ValidationError("\(mode) runs alone: no command, no --replica")
        }
        if pipeTimeout != nil && !pipe { throw ValidationError("--pipe-timeout goes with --pipe") }
        if mono && !latencyDist { throw ValidationError("--mono goes with --latency-dist") }
        if let intrinsicLatency, intrinsicLatency < 1 { throw ValidationError("--intrinsic-latency takes a number of seconds from 1") }
        if let pipeTimeout, pipeTimeout < 0 { throw ValidationError("--pipe-timeout takes a number of seconds from 0") }
    }

    private func validateScan() throws {
        let scanOptions = pattern != nil || quotedPattern != nil || count != nil || cursor != nil
        let modes = [scan, bigkeys, memkeys || memkeysSamples != nil, keystats || keystatsSamples != nil, hotkeys].filter { $0 }.count
        if scanOptions && modes == 0 {
            throw ValidationError("--pattern, --quoted-pattern, --count and --cursor go with --scan, --bigkeys, --memkeys, --keystats or --hotkeys")
        }
        if top != nil && !(keystats || keystatsSamples != nil) { throw ValidationError("--top goes with --keystats") }
        if let top, top < 0 { throw ValidationError("--top takes a number from 0") }
        if let keystatsSamples, keystatsSamples < 0 { throw ValidationError("--keystats-samples takes a number from 0") }
        if onMaster && hotkeys { throw ValidationError("--hotkeys always reads the master (the LFU counters are its own): no --master") }
        if onMaster && modes == 0 && rdb == nil && functionsRdb == nil {
            throw ValidationError("--master goes with --scan, --bigkeys, --memkeys, --keystats, --rdb or --functions-rdb")
        }
        guard modes > 0 else { return }
        if let memkeysSamples, memkeysSamples < 0 { throw ValidationError("--memkeys-samples takes a number from 0") }
        if pattern != nil && quotedPattern != nil { throw ValidationError("--pattern and --quoted-pattern exclude each other") }
        if let count, count < 1 { throw ValidationError("--count takes a number from 1") }
        if let cursor, UInt64(cursor) == nil { throw ValidationError("--cursor takes a SCAN cursor: a number from 0") }
        if let quotedPattern, (try? CommandLineSplitter.split(Array(quotedPattern.utf8)))?.count != 1 {
            throw ValidationError("--quoted-pattern takes one quoted string (as redis-cli reads it): \(quotedPattern)")
        }
    }

    private var scanOptions: ScanOptions? {
        let keyStats = keystats || keystatsSamples != nil
        guard scan || bigkeys || memkeys || memkeysSamples != nil || hotkeys || keyStats else { return nil }
        var options = ScanOptions()
        options.report =
            bigkeys ? .bigKeys : scan ? .keys : hotkeys ? .hotKeys
            : keyStats ? .keyStats(samples: keystatsSamples, top: top ?? 10) : .memKeys(samples: memkeysSamples ?? 0)
        options.match = quotedPattern.flatMap { try? CommandLineSplitter.split(Array($0.utf8)).first } ?? pattern.map { Array($0.utf8) }
        options.count = count
        options.cursor = cursor ?? "0"
        options.onMaster = onMaster
        options.interval = interval
        return options
    }

    /// `@prod`: the deployment named in the master name's place.
    private var deployment: String? {
        guard let masterName, masterName.hasPrefix("@"), masterName.count > 1 else { return nil }
        return String(masterName.dropFirst())
    }

    /// The options as the REPL takes them.
    var options: REPLOptions {
        var options = REPLOptions(masterName: deployment == nil ? masterName ?? "" : "")
        options.deployment = deployment
        options.configFile = configFile
        options.listDeployments = listDeployments
        options.url = url
        options.sentinels = sentinels
        options.command = command
        options.database = db
        options.user = user
        options.password = password
        options.askPassword = askPassword
        options.sentinelUser = sentinelUser
        options.sentinelPassword = sentinelPassword
        options.resp3 = resp3 || ((json || quotedJSON) && !resp2)
        options.mode = csv ? .csv : json ? .json : quotedJSON ? .quotedJSON : raw ? .raw : noRaw ? .tty : nil
        options.exitOnErrorReply = exitOnError
        options.historyFile = historyFile
        options.timeout = timeout
        options.connectTimeout = connectTimeout
        options.sentinelTimeout = sentinelTimeout
        options.repeatCount = repeatCount
        options.events = events
        options.repeatInterval = interval
        options.logLevel = logLevel ?? (verbose ? .debug : nil)
        options.replica = replica
        options.failover = failover
        options.assumeYes = yes || ProcessEnvironment.value("SENTINEL_REPL_YES") == "1"
        options.confirmAbove = confirmAbove
        options.scan = scanOptions
        options.pipeTimeout = pipe ? pipeTimeout ?? 30 : nil
        options.natmap = natmap
        options.snapshot = (rdb ?? functionsRdb).map { REPLOptions.Snapshot(file: $0, functionsOnly: rdb == nil, onMaster: onMaster) }
        options.watch = stat ? .stat : latencyHistory ? .latencyHistory : latency ? .latency : latencyDist ? .latencyDist(mono: mono) : nil
        options.intrinsicLatency = intrinsicLatency
        options.tls.enabled = tls
        options.tls.caCertificateFile = cacert
        options.tls.caCertificateDirectory = cacertdir
        options.tls.certificateFile = cert
        options.tls.keyFile = key
        options.tls.serverName = sni
        options.tls.insecure = insecure
        options.sentinelTLSFiles.enabled = sentinelTLS
        options.sentinelTLSFiles.caCertificateFile = sentinelCacert
        options.sentinelTLSFiles.certificateFile = sentinelCert
        options.sentinelTLSFiles.keyFile = sentinelKey
        return options
    }

    func run() async throws {
        let status = await Program.run(options)
        if status != 0 { throw ExitCode(status) }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {
    // Spelled out: the protocol's generic default costs about 0.5 M instructions at every start.
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

func printError(_ message: String) {
    let bytes = Array((message + "\n").utf8)
    bytes.withUnsafeBytes { raw in _ = write(2, raw.baseAddress!, raw.count) }
}
