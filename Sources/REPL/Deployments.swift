#if canImport(Glibc)
    import Glibc
#endif

/// Where a password comes from when a deployment names one: never the command line.
package enum SecretSource: Sendable, Equatable {
    /// `password-env = "VAR"`: the environment variable's value.
    case environment(String)
    /// `password-command = "pass show redis/prod"`: what the command prints on stdout,
    /// its last newline dropped (stdin and stderr stay the terminal's, for a passphrase).
    case command(String)
    /// `password = "..."` in a file readable by its owner alone.
    case inline(String)

    /// The password; a usage error says which variable or command failed.
    package func resolve(deployment: String) throws(UsageError) -> String {
        switch self {
        case .inline(let password): return password
        case .environment(let name):
            guard let value = ProcessEnvironment.value(name) else {
                throw UsageError(message: "deployment '\(deployment)' reads its password from env \(name), which is not set")
            }
            return value
        case .command(let command):
            return try Self.output(of: command, deployment: deployment)
        }
    }

    private static func output(of command: String, deployment: String) throws(UsageError) -> String {
        guard let pipe = popen(command, "r") else {
            throw UsageError(message: "deployment '\(deployment)': could not run its password command '\(command)'")
        }
        var bytes = readAll(pipe)
        let status = pclose(pipe)
        guard status == 0 else {
            let code = status > 0 && status & 0x7f == 0 ? "exit status \((status >> 8) & 0xff)" : "status \(status)"
            throw UsageError(message: "deployment '\(deployment)': its password command '\(command)' failed (\(code)): nothing was sent")
        }
        if bytes.last == 10 { bytes.removeLast() }
        if bytes.last == 13 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Everything `stream` gives until its end.
func readAll(_ stream: UnsafeMutablePointer<FILE>) -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    while true {
        let count = fread(&chunk, 1, chunk.count, stream)
        if count <= 0 { return bytes }
        bytes += chunk[0..<count]
    }
}

/// One named deployment of the config file: what `sentinel-repl @name` opens.
package struct Deployment: Sendable, Equatable {
    package var name: String
    package var sentinels: [String] = []
    package var masterName = ""
    package var database: Int?
    package var user: String?
    package var password: SecretSource?
    package var sentinelUser: String?
    package var sentinelPassword: SecretSource?
    package var tls = TLSOptions()
    package var sentinelTLS = SentinelTLSFiles()
    package var natmap: [String] = []
    package var connectTimeout: Double?
    package var sentinelTimeout: Double?
    package var timeout: Double?
    /// What the prompt shows before the master's name (the deployment's name by default).
    package var promptLabel: String
    /// An ANSI colour for the label (`red`, `yellow`...); nil: the terminal's own.
    package var promptColour: PromptColour?

    package init(name: String) {
        self.name = name
        self.promptLabel = name
    }

    /// One line for `--list-deployments`.
    package var summary: String {
        var traits: [String] = []
        if tls.enabled { traits.append("tls") }
        if sentinelTLS.enabled { traits.append("sentinel tls") }
        if !natmap.isEmpty { traits.append("natmap \(natmap.count)") }
        if let database, database != 0 { traits.append("db \(database)") }
        let extra = traits.isEmpty ? "" : " (\(traits.joined(separator: ", ")))"
        return "\(name)\t\(masterName) via \(sentinels.joined(separator: ","))\(extra)"
    }
}

/// What the prompt shows before the master's name for a named deployment.
package struct PromptLabel: Sendable, Equatable {
    package var text: String
    package var colour: PromptColour?

    package init(text: String, colour: PromptColour?) {
        self.text = text
        self.colour = colour
    }

    /// `[prod] `, in its colour (the line editor keeps the escapes out of the width).
    var prefix: String {
        guard let colour else { return "[\(text)] " }
        return "\u{1B}[\(colour.sgr)m[\(text)]\u{1B}[0m "
    }
}

/// The colours a prompt label may take: SGR codes every terminal has.
package enum PromptColour: String, Sendable, CaseIterable {
    case red, green, yellow, blue, magenta, cyan, white
    case boldRed = "bold-red"

    package var sgr: String {
        switch self {
        case .red: "31"
        case .green: "32"
        case .yellow: "33"
        case .blue: "34"
        case .magenta: "35"
        case .cyan: "36"
        case .white: "37"
        case .boldRed: "1;31"
        }
    }
}

/// A mistake in the config file: one line naming the file, the line and what is wrong (exit 2).
package struct DeploymentFileError: Error, CustomStringConvertible {
    package var file: String
    package var line: Int?
    package var message: String
    package var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}
