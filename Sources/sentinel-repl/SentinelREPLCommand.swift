import ArgumentParser
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
            Examples:
              sentinel-repl mymaster PING
              sentinel-repl -s 127.0.0.1:26379 -s 127.0.0.1:26380 mymaster LRANGE mylist 0 -1
            """
    )

    @Option(
        name: [.short, .customLong("sentinel")],
        help: ArgumentHelp("A sentinel to ask, host:port; repeat it, in order.", valueName: "host:port"))
    var sentinels: [String] = []

    @Option(name: [.short, .customLong("db")], help: "Database number.")
    var db: Int = 0

    @Option(name: .customLong("user"), help: "ACL user for the master and replicas.")
    var user: String?

    @Option(
        name: [.short, .customLong("pass")],
        help: "Password for the master and replicas (unsafe on a command line; prefer REDISCLI_AUTH).")
    var password: String?

    @Option(name: .customLong("sentinel-user"), help: "ACL user for the sentinels.")
    var sentinelUser: String?

    @Option(
        name: .customLong("sentinel-pass"),
        help: "Password for the sentinels (or env SENTINEL_REPL_SENTINEL_AUTH).")
    var sentinelPassword: String?

    @Flag(name: .customShort("3"), help: "Use RESP3 (HELLO 3).")
    var resp3 = false

    @Flag(name: .customShort("2"), help: "Use RESP2 (the default).")
    var resp2 = false

    @Argument(help: "The master name Sentinel monitors.")
    var masterName: String

    @Argument(parsing: .captureForPassthrough, help: "A command to run once, with its arguments.")
    var command: [String] = []

    func run() async throws {
        var addresses: [ServerAddress] = []
        for text in sentinels.isEmpty ? ["127.0.0.1:26379"] : sentinels {
            guard let address = ServerAddress(text, defaultPort: 26379) else {
                throw ValidationError("'\(text)' is not a sentinel address (host:port)")
            }
            addresses.append(address)
        }
        var configuration = SentinelClientConfiguration(sentinels: addresses, masterName: masterName)
        let environment = ProcessEnvironment()
        if password != nil {
            printError("Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.")
        }
        if let pass = password ?? environment["REDISCLI_AUTH"] {
            configuration.dataCredentials = Credentials(user: user, password: pass)
        }
        if let pass = sentinelPassword ?? environment["SENTINEL_REPL_SENTINEL_AUTH"] {
            configuration.sentinelCredentials = Credentials(user: sentinelUser, password: pass)
        }
        configuration.database = db
        configuration.protocolVersion = resp3 ? .resp3 : .resp2
        configuration.followFailovers = getenv("SR_FOLLOW") != nil
        let logger = Logger(label: "sentinel-repl", factory: { _ in SwiftLogNoOpLogHandler() })
        let client = SentinelClient(configuration: configuration, logger: logger)
        do {
            try await client.start()
        } catch {
            await client.shutdown()
            printError("sentinel-repl: \(error)")
            throw ExitCode(1)
        }
        let exit = await runOneShot(client)
        await client.shutdown()
        if exit != 0 { throw ExitCode(exit) }
    }

    private func runOneShot(_ client: SentinelClient) async -> Int32 {
        do {
            let reply = try await client.send(RESPCommand(strings: command))
            writeStdout(ReplyRenderer.render(reply, mode: .raw))
            return 0
        } catch {
            printError("sentinel-repl: \(error)")
            return 1
        }
    }
}

func writeStdout(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = write(1, raw.baseAddress! + offset, raw.count - offset)
            if n <= 0 { return }
            offset += n
        }
    }
}

func printError(_ message: String) {
    writeStderr(Array((message + "\n").utf8))
}

func writeStderr(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { raw in _ = write(2, raw.baseAddress!, raw.count) }
}

struct ProcessEnvironment {
    subscript(name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}
