import Foundation
import TestTopology
import Testing

/// Named deployments of the config file (`$XDG_CONFIG_HOME/sentinel-repl/config.toml`):
/// two real topologies, one of them TLS (where the server has it) behind forwarders that
/// only `natmap` entries lead to; each opened by name, at the prompt and once.
@Suite(.serialized, .timeLimit(.minutes(4 * testSlowdown)))
struct NamedDeploymentTests {
    struct ConfigHome {
        let directory = NSTemporaryDirectory() + "config-home-\(UUID().uuidString)"
        var file: String { "\(directory)/sentinel-repl/config.toml" }

        func write(_ text: String, to path: String, mode: Int) throws {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    private func run(_ arguments: [String], _ environment: [String: String]) throws -> Topology.RunResult {
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        return try Topology.run(sentinelREPLExecutable, arguments, environment: merged)
    }

    private func quoted(_ values: [String]) -> String { "[" + values.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }

    /// The two deployments: `plain` (its password from the environment) and `remote`,
    /// every data node through a forwarder, TLS where the server has it.
    private func config(plain: Topology, remote: Topology, forwarders: Forwarders) -> String {
        let natmap = remote.dataPorts.map { port in
            let node = remote.address(of: port)
            return "\(node)=\(forwarders.host):\(forwarders.ports[node] ?? 0)"
        }
        var text = """
            # two deployments
            [plain]
            sentinels = \(quoted(plain.sentinelPorts.map { plain.address(of: $0) }))
            master = "\(plain.masterName)"
            password-env = "DEPLOYMENT_TEST_PASS"
            prompt-color = "yellow"

            [remote]
            sentinels = \(quoted(remote.sentinelPorts.map { remote.address(of: $0) }))
            master = "\(remote.masterName)"
            db = 2
            natmap = \(quoted(natmap))
            prompt-label = "REMOTE"

            """
        if let tls = remote.tlsDirectory {
            text += """
                tls = true
                sentinel-tls = true
                cacert = "\(tls)/ca.crt"
                cert = "\(tls)/client.crt"
                key = "\(tls)/client.key"

                """
        }
        return text
    }

    @Test func twoDeploymentsOpenByNameAndASecretOrAMistakeInTheFileIsRefused() async throws {
        var plainOptions = Topology.Options()
        plainOptions.dataPassword = "plain-secret"
        var remoteOptions = Topology.Options()
        remoteOptions.address = Topology.serverHasTLS ? .hostname : .ipv4
        remoteOptions.tls = Topology.serverHasTLS
        try await withTopology(plainOptions) { plain in
            try await withTopology(remoteOptions) { remote in
                let forwarders = try Forwarders(to: remote.dataPorts.map { remote.address(of: $0) }, in: remote.directory)
                defer { forwarders.stop() }
                let home = ConfigHome()
                defer { home.remove() }
                try home.write(config(plain: plain, remote: remote, forwarders: forwarders), to: home.file, mode: 0o644)
                let environment = ["XDG_CONFIG_HOME": home.directory, "DEPLOYMENT_TEST_PASS": "plain-secret"]
                try expectListedAndOneShots(plain, remote, forwarders, environment)
                try expectPrompt(
                    named: "plain", shows: "[plain] \(plain.masterName)@\(plain.address(of: plain.masterPort))> ", colour: "\u{1B}[33m[plain]\u{1B}[0m ",
                    environment)
                try expectPrompt(named: "remote", shows: "[REMOTE] \(remote.masterName)@\(remote.address(of: remote.masterPort))[2]> ", environment)
                try expectRefusals(home, plain, environment)
            }
        }
    }

    private func expectListedAndOneShots(_ plain: Topology, _ remote: Topology, _ forwarders: Forwarders, _ environment: [String: String]) throws {
        let listed = try run(["--list-deployments"], environment)
        #expect(listed.status == 0 && listed.stderr.isEmpty, "\(listed)")
        #expect(listed.outputLines.map { $0.split(separator: "\t").first.map(String.init) } == ["plain", "remote"], "\(listed)")

        let setPlain = try run(["@plain", "SET", "k", "on plain"], environment)
        #expect(setPlain.status == 0 && setPlain.stdout == "OK\n" && setPlain.stderr.isEmpty, "\(setPlain)")
        #expect(try plain.cli(plain.masterPort, "GET", "k") == "on plain\n")

        let setRemote = try run(["@remote", "SET", "k", "on remote"], environment)
        #expect(setRemote.status == 0 && setRemote.stdout == "OK\n" && setRemote.stderr.isEmpty, "\(setRemote)")
        #expect(try remote.cli(remote.masterPort, ["-n", "2", "GET", "k"]) == "on remote\n", "db 2 from the file")
        #expect(forwarders.connectionCounts().values.reduce(0, +) > 0, "the remote deployment's natmap led through the forwarders")

        // The command line wins over the file: -n 5 over db = 2.
        let overridden = try run(["-n", "5", "@remote", "SET", "k", "db five"], environment)
        #expect(overridden.status == 0 && overridden.stdout == "OK\n", "\(overridden)")
        #expect(try remote.cli(remote.masterPort, ["-n", "5", "GET", "k"]) == "db five\n")

        let withoutPassword = try run(["@plain", "PING"], ["XDG_CONFIG_HOME": environment["XDG_CONFIG_HOME"] ?? ""])
        #expect(withoutPassword.status == 2 && withoutPassword.stderr.contains("env DEPLOYMENT_TEST_PASS, which is not set"), "\(withoutPassword)")
    }

    private func expectPrompt(named name: String, shows prompt: String, colour: String? = nil, _ environment: [String: String]) throws {
        let terminal = try PseudoTerminal(sentinelREPLExecutable, ["--history-file", "/dev/null", "@\(name)"], environment: environment)
        defer { terminal.close() }
        #expect(terminal.waitFor(prompt, seconds: 15), "\(name): \(terminal.screen)")
        if let colour { #expect(terminal.printed.contains(colour), "\(terminal.printed.debugDescription)") }
        #expect(terminal.enter("GET k", thenPromptAfter: "on \(name)"), "\(terminal.screen)")
        terminal.type("\u{4}")
        #expect(terminal.waitForExit() == 0)
        #expect(terminal.stderr.isEmpty, "stderr: \(terminal.stderr)")
    }

    /// A password in a file others may read is refused, as is a malformed line: one line
    /// naming the file and the line, exit 2, nothing sent.
    private func expectRefusals(_ home: ConfigHome, _ plain: Topology, _ environment: [String: String]) throws {
        let secretFile = "\(home.directory)/secret.toml"
        let secret = """
            [inline]
            sentinels = \(quoted(plain.sentinelPorts.map { plain.address(of: $0) }))
            master = "\(plain.masterName)"
            password = "plain-secret"

            """
        try home.write(secret, to: secretFile, mode: 0o640)
        let refused = try run(["--config", secretFile, "@inline", "SET", "refused", "1"], environment)
        #expect(refused.status == 2 && refused.stdout.isEmpty, "\(refused)")
        #expect(refused.stderr.hasPrefix("sentinel-repl: \(secretFile):4: holds a password ([inline] password)") && refused.stderr.contains("mode 0640"), "\(refused)")
        #expect(try plain.cli(plain.masterPort, "EXISTS", "refused") == "0\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secretFile)
        let accepted = try run(["--config", secretFile, "@inline", "PING"], environment)
        #expect(accepted.status == 0 && accepted.stdout == "PONG\n", "\(accepted)")

        let malformedFile = "\(home.directory)/malformed.toml"
        try home.write("[broken]\nmaster = \"m\"\nsentinels = [\"127.0.0.1:1\"]\ndb = \n", to: malformedFile, mode: 0o644)
        let malformed = try run(["--config", malformedFile, "@broken", "PING"], environment)
        #expect(malformed.status == 2 && malformed.stdout.isEmpty, "\(malformed)")
        #expect(malformed.stderr.hasPrefix("sentinel-repl: \(malformedFile):4: ") && malformed.stderr.split(separator: "\n").count == 1, "\(malformed)")
    }
}
