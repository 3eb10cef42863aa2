import Dispatch
import Logging
import NIOPosix
import RESP
import SentinelClient
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// The command line's options as given, before the environment fills gaps.
package struct REPLOptions: Sendable {
    package var sentinels: [String] = []
    package var masterName: String
    package var command: [String] = []
    /// `-n`; nil: not given (a deployment's, else 0).
    package var database: Int?
    package var user: String?
    package var password: String?
    package var askPassword = false
    package var sentinelUser: String?
    package var sentinelPassword: String?
    package var resp3 = false
    package var mode: ReplyRenderer.Mode?
    package var exitOnErrorReply = false
    /// `--failover`: a coordinated failover, then exit.
    package var failover = false
    /// `--yes` (or env SENTINEL_REPL_YES=1): neither `--failover` nor the prompt asks first.
    package var assumeYes = false
    /// `--confirm-above N`: KEYS and whole-key reads ask first at the prompt above N keys or elements.
    package var confirmAbove = 100_000
    package var historyFile: String?
    /// `-r`: how many times the command line's command runs (negative: until Ctrl-C).
    package var repeatCount = 1
    /// `-i`: seconds between repetitions (`-r`, `N command`).
    package var repeatInterval: Double = 0
    /// `--events`: topology notices on stderr outside the prompt.
    package var events = false
    /// `-t`: seconds a reply may take before its command is reported in doubt; nil: no bound.
    package var timeout: Double?
    /// The most seconds a timeout or interval takes (a year): they become Int64 nanoseconds,
    /// and `inf` or 1e10 would trap there.
    package static let longestSeconds: Double = 31_536_000

    /// A timeout's or interval's seconds are a number above 0 (from 0 with `orZero`) and at most a year.
    package static func isValidSeconds(_ seconds: Double, orZero: Bool = false) -> Bool {
        (orZero ? seconds >= 0 : seconds > 0) && seconds <= longestSeconds
    }
    /// `--connect-timeout`, `--sentinel-timeout`: seconds, or the library's defaults.
    package var connectTimeout: Double?
    package var sentinelTimeout: Double?
    /// Client log lines on stderr from this level on (`--verbose` is `.debug`); nil: none.
    package var logLevel: Logger.Level?
    /// `-u URL` (else env `SENTINEL_REPL_URL`, else a URL in the master name's place):
    /// sentinels, master name, db and credentials in one (see `resolvingURL`).
    package var url: String?
    /// The URL `resolvingURL` read, and whether it was on the command line (`ps` shows it).
    var sentinelURL: SentinelURL?
    var urlOnCommandLine = false
    /// The sentinels and credentials came from a URL (the hints say where to fix them).
    var usesURL: Bool { sentinelURL != nil }
    /// `--stat`, `--latency`, `--latency-history`: figures of the master, following failovers.
    package enum Watch: Sendable, Equatable {
        case stat, latency, latencyHistory
        case latencyDist(mono: Bool)
    }
    package var watch: Watch?
    /// `--scan` and its options: the keys, from a healthy replica unless `--master`.
    package var scan: ScanOptions?
    /// `--pipe`: RESP from stdin to the master; `--pipe-timeout`'s seconds (redis-cli's 30 by default).
    package var pipeTimeout: Int?
    /// `--natmap FROM=TO`, in order: where to dial the addresses Sentinel names.
    package var natmap: [String] = []
    /// `--intrinsic-latency SECONDS`: this machine's latency; no server asked.
    package var intrinsicLatency: Int?
    /// `--rdb FILE` or `--functions-rdb FILE`, and `--master`.
    package var snapshot: Snapshot?

    package struct Snapshot: Sendable {
        package var file: String
        package var functionsOnly: Bool
        package var onMaster: Bool

        package init(file: String, functionsOnly: Bool, onMaster: Bool) {
            self.file = file
            self.functionsOnly = functionsOnly
            self.onMaster = onMaster
        }
    }
    /// `--replica`: a read-only session on a healthy replica.
    package var replica = false
    /// `--tls` and its files, for the master and replicas.
    package var tls = TLSOptions()
    /// `--sentinel-tls` and `--sentinel-cacert/-cert/-key`, as given.
    package var sentinelTLSFiles = SentinelTLSFiles()
    /// The sentinels' TLS: their own files where given, else the data nodes'.
    package var sentinelTLS: TLSOptions {
        tls.forSentinels(
            enabled: sentinelTLSFiles.enabled, caCertificateFile: sentinelTLSFiles.caCertificateFile,
            certificateFile: sentinelTLSFiles.certificateFile, keyFile: sentinelTLSFiles.keyFile)
    }
    /// `@name`: a deployment of the config file (`--config`, else the default path).
    package var deployment: String?
    package var configFile: String?
    /// `--list-deployments`: the config file's names, then exit.
    package var listDeployments = false
    /// The deployment's passwords, where it names them (the command line's win).
    package var passwordSource: SecretSource?
    package var sentinelPasswordSource: SecretSource?
    /// The deployment's label before the prompt, and its colour.
    package var promptLabel: String?
    package var promptColour: PromptColour?

    /// `masterName` empty: not given (a URL names it).
    package init(masterName: String) { self.masterName = masterName }

    /// The options with a URL read into them: `-u URL` (then every word after the options
    /// is the command), or a URL in the master name's place, or env `SENTINEL_REPL_URL`
    /// when neither and no `-s` is given (then a first word equal to the URL's master
    /// name is taken as the name, as without a URL; the other words are the command).
    /// A URL excludes `-s`, `--user` and `-a`; its db wins over `-n`.
    package func resolvingURL() throws(UsageError) -> REPLOptions {
        var resolved = self
        let text: String
        if let url {
            text = url
            if !masterName.isEmpty { resolved.command = [masterName] + command }
            resolved.urlOnCommandLine = true
        } else if SentinelURL.looksLikeURL(masterName) {
            text = masterName
            resolved.urlOnCommandLine = true
        } else if SentinelURL.hasOtherScheme(masterName) {
            // `sentinel-repl redis://host:6379/0`: refused, not taken as a master's name.
            text = masterName
        } else if sentinels.isEmpty, let env = ProcessEnvironment.value("SENTINEL_REPL_URL"), !env.isEmpty {
            text = env
        } else {
            if masterName.isEmpty && intrinsicLatency == nil { throw UsageError(message: "give the master name (or -u URL, or env SENTINEL_REPL_URL)") }
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
    package func sentinelAddresses() throws(UsageError) -> [ServerAddress] {
        var texts = sentinels.flatMap { $0.split(separator: ",").map { String($0).trimmingSpaces } }
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
