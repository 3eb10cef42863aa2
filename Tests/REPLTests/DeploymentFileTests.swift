import Foundation
import Testing

@testable import REPL

/// The config file of named deployments: read strictly, each mistake one line naming the
/// file and the line; a password only in a file its owner alone reads.
@Suite struct DeploymentFileTests {
    /// Writes `text` to a fresh file with `mode`; returns its path.
    func file(_ text: String, mode: Int = 0o644) throws -> String {
        let directory = NSTemporaryDirectory() + "deployments-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = "\(directory)/config.toml"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    func failure(_ text: String, mode: Int = 0o644) throws -> String {
        let path = try file(text, mode: mode)
        do {
            _ = try DeploymentFile.load(path)
            Issue.record("\(text) was read")
            return ""
        } catch {
            return error.description.replacingOccurrences(of: path, with: "FILE")
        }
    }

    let twoDeployments = """
        # on call
        [staging]
        sentinels = ["10.1.0.1:26379", "10.1.0.2"]
        master = "cache"

        [prod]
        sentinels = "10.0.0.1:26379,10.0.0.2:26379"
        master = "mymaster"
        db = 2
        user = "ops"
        password-env = "PROD_PASS"
        tls = true
        cacert = "certs/ca.crt"
        cert = "~/client.crt"
        key = "/etc/client.key"
        natmap = ["10.0.0.5:6379=127.0.0.1:16379", "10.0.0.6=127.0.0.2"]
        connect-timeout = 3
        sentinel-timeout = 1.5
        prompt-color = "red"
        prompt-label = "PROD"
        """

    @Test func twoDeploymentsReadInFileOrderWithPathsFromTheFilesDirectory() throws {
        let path = try file(twoDeployments)
        let loaded = try DeploymentFile.load(path)
        #expect(loaded.deployments.map(\.name) == ["staging", "prod"])
        let prod = try loaded.deployment(named: "prod")
        #expect(prod.sentinels == ["10.0.0.1:26379", "10.0.0.2:26379"] && prod.masterName == "mymaster" && prod.database == 2)
        #expect(prod.password == .environment("PROD_PASS") && prod.user == "ops")
        #expect(prod.tls.enabled && prod.tls.caCertificateFile == path.replacingOccurrences(of: "config.toml", with: "certs/ca.crt"))
        #expect(prod.tls.certificateFile == (ProcessInfo.processInfo.environment["HOME"] ?? "") + "/client.crt")
        #expect(prod.tls.keyFile == "/etc/client.key")
        #expect(prod.natmap.count == 2 && prod.connectTimeout == 3 && prod.sentinelTimeout == 1.5)
        #expect(prod.promptLabel == "PROD" && prod.promptColour == .red)
        let staging = try loaded.deployment(named: "staging")
        #expect(staging.promptLabel == "staging" && staging.database == nil && !staging.tls.enabled)
        #expect(throws: DeploymentFileError.self) { try loaded.deployment(named: "qa") }
        #expect(loaded.deployments[1].summary == "prod\tmymaster via 10.0.0.1:26379,10.0.0.2:26379 (tls, natmap 2, db 2)")
    }

    @Test func eachMistakeIsOneLineNamingTheFileAndTheLine() throws {
        #expect(try failure("[prod]\nmaster = \"m\"\nsentinels = [\"a:1\"\ndb = 1\n").hasPrefix("FILE:4: "))
        #expect(try failure("[prod]\nmaster = \"m\"\nsentinels = [\"a:1\"]\nsentinal = 2\n").hasPrefix("FILE:4: [prod]: unknown key 'sentinal'"))
        #expect(try failure("[prod]\nmaster = \"m\"\nsentinels = [\"a:1\"]\n\ndb = \"two\"\n").hasPrefix("FILE:5: [prod]: db takes a number from 0"))
        #expect(try failure("[prod]\nsentinels = [\"a:1\"]\n") == "FILE:1: [prod] needs master = \"name Sentinel monitors\"")
        #expect(try failure("[prod]\nmaster = \"m\"\nsentinels = [\"a:port\"]\n").hasPrefix("FILE:3: [prod]: 'a:port' is not a sentinel address"))
        #expect(try failure("[prod]\nmaster = \"m\"\nsentinels = [\"a:1\"]\nnatmap = [\"x\"]\n").hasPrefix("FILE:4: [prod]: "))
        #expect(try failure("[prod]\nmaster = \"m\"\nsentinels = [\"a:1\"]\ncacert = \"ca.crt\"\n") == "FILE:4: [prod]: cacert needs tls = true or sentinel-tls = true")
        #expect(try failure("[prod]\nmaster = \"m\"\nsentinels = [\"a:1\"]\nprompt-color = \"pink\"\n").hasPrefix("FILE:4: [prod]: prompt-color is one of red"))
        #expect(try failure("name = \"x\"\n").hasPrefix("FILE:1: 'name' is not a deployment"))
        #expect(try failure("[prod]\nmaster = \"m\"\nsentinels = [\"a:1\"]\ntimeout = inf\n").hasPrefix("FILE:4: [prod]: timeout takes a number of seconds above 0, at most"))
        #expect(try failure("[prod]\nmaster = \"m\"\nsentinels = [\"a:1\"]\npassword-env = \"P\"\npassword-command = \"pass p\"\n").hasSuffix("password-env, password-command exclude each other"))
    }

    @Test func aPasswordInTheFileIsRefusedUnlessOnlyItsOwnerMayReadIt() throws {
        let text = "[prod]\nmaster = \"m\"\nsentinels = [\"a:1\"]\npassword = \"s3cret\"\n"
        let refused = try failure(text, mode: 0o640)
        #expect(refused.hasPrefix("FILE:4: holds a password ([prod] password) and others than its owner may read it (mode 0640): chmod 600 FILE"), "\(refused)")
        let kept = try DeploymentFile.load(try file(text, mode: 0o600))
        #expect(try kept.deployment(named: "prod").password == .inline("s3cret"))
        // Without a password in it, the file may be read by anyone.
        #expect(try DeploymentFile.load(try file("[prod]\nmaster = \"m\"\nsentinels = [\"a:1\"]\npassword-env = \"P\"\n", mode: 0o644)).deployments.count == 1)
    }

    @Test func aPasswordCommandRunsOnlyFromAFileOthersCannotChange() throws {
        let text = "[prod]\nmaster = \"m\"\nsentinels = [\"a:1\"]\npassword-command = \"pass show prod\"\n"
        let refused = try failure(text, mode: 0o664)
        #expect(refused == "FILE:4: names a command for a password ([prod] password-command) and others than its owner may change it (mode 0664): chmod go-w FILE", "\(refused)")
        #expect(try DeploymentFile.load(try file(text, mode: 0o644)).deployments.count == 1, "readable is fine: it holds no secret")
    }

    @Test func tlsFilesGivenForADeploymentWithoutTLSAreAMistake() throws {
        let staging = try DeploymentFile.load(try file(twoDeployments)).deployment(named: "staging")
        var given = REPLOptions(masterName: "")
        given.tls.caCertificateFile = "/mine/ca.crt"
        #expect(throws: UsageError.self) { try given.applying(staging).checkTLSFilesAreUsed(deployment: "staging") }
        given.tls.enabled = true
        try given.applying(staging).checkTLSFilesAreUsed(deployment: "staging")
        var sentinelOnly = REPLOptions(masterName: "")
        sentinelOnly.sentinelTLSFiles.caCertificateFile = "/mine/ca.crt"
        #expect(throws: UsageError.self) { try sentinelOnly.applying(staging).checkTLSFilesAreUsed(deployment: "staging") }
        let prod = try DeploymentFile.load(try file(twoDeployments)).deployment(named: "prod")
        var sni = REPLOptions(masterName: "")
        sni.tls.serverName = "redis.internal"
        try sni.applying(prod).checkTLSFilesAreUsed(deployment: "prod")
    }

    @Test func theCommandLineWinsOverTheDeploymentFieldByField() throws {
        let prod = try DeploymentFile.load(try file(twoDeployments)).deployment(named: "prod")
        var given = REPLOptions(masterName: "")
        given.deployment = "prod"
        given.database = 5
        given.tls.caCertificateFile = "/mine/ca.crt"
        given.connectTimeout = 9
        let merged = given.applying(prod)
        #expect(merged.masterName == "mymaster" && merged.sentinels == prod.sentinels && merged.database == 5)
        #expect(merged.tls.enabled && merged.tls.caCertificateFile == "/mine/ca.crt" && merged.tls.keyFile == "/etc/client.key")
        #expect(merged.connectTimeout == 9 && merged.sentinelTimeout == 1.5 && merged.natmap == prod.natmap)
        #expect(merged.passwordSource == .environment("PROD_PASS") && merged.promptLabel == "PROD")
        given.password = "typed"
        given.sentinels = ["127.0.0.1:26380"]
        let typed = given.applying(prod)
        #expect(typed.passwordSource == nil && typed.sentinels == ["127.0.0.1:26380"])
    }

    @Test func aPasswordComesFromTheEnvironmentOrACommandsOutput() throws {
        #expect(try SecretSource.command("printf 's3 cret\\n'").resolve(deployment: "prod") == "s3 cret")
        #expect(throws: UsageError.self) { try SecretSource.command("exit 3").resolve(deployment: "prod") }
        #expect(throws: UsageError.self) { try SecretSource.environment("SENTINEL_REPL_UNSET_\(UUID().uuidString.prefix(8))").resolve(deployment: "prod") }
        #expect(try SecretSource.environment("HOME").resolve(deployment: "prod") == ProcessInfo.processInfo.environment["HOME"])
    }

    @Test func theLabelLeadsThePromptAndItsColourTakesNoWidth() {
        let label = PromptLabel(text: "prod", colour: .red)
        #expect(label.prefix == "\u{1B}[31m[prod]\u{1B}[0m ")
        #expect(LineEditor.markingEscapes(label.prefix + "m@h:1> ") == "\u{1}\u{1B}[31m\u{1}[prod]\u{1}\u{1B}[0m\u{1} m@h:1> ")
        #expect(PromptLabel(text: "staging", colour: nil).prefix == "[staging] ")
    }
}
