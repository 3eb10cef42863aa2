import SentinelClient
import TOMLKit

/// Reads one deployment's table, key by key, into a `Deployment`; each mistake is an
/// error at the key's line.
struct DeploymentReader {
    let file: String
    let name: String
    let lines: TOMLLines

    static let stringKeys = [
        "master", "user", "sentinel-user", "cacert", "cacertdir", "cert", "key", "sni", "sentinel-cacert", "sentinel-cert",
        "sentinel-key", "prompt-label", "prompt-color", "password", "password-env", "password-command", "sentinel-password",
        "sentinel-password-env", "sentinel-password-command",
    ]
    static let knownKeys = Set(stringKeys + ["sentinels", "db", "tls", "sentinel-tls", "insecure", "natmap", "connect-timeout", "sentinel-timeout", "timeout"])

    func error(_ key: String?, _ message: String) -> DeploymentFileError {
        DeploymentFileError(file: file, line: lines.line(of: key, in: name), message: message)
    }

    func read(_ table: TOMLTable) throws(DeploymentFileError) -> Deployment {
        for key in table.keys where !Self.knownKeys.contains(key) {
            throw error(key, "[\(name)]: unknown key '\(key)' (known: \(Self.knownKeys.sorted().joined(separator: ", ")))")
        }
        var deployment = Deployment(name: name)
        guard let master = try string(table, "master"), !master.isEmpty else { throw error(nil, "[\(name)] needs master = \"name Sentinel monitors\"") }
        deployment.masterName = master
        deployment.sentinels = try sentinels(table)
        deployment.database = try database(table)
        deployment.user = try string(table, "user")
        deployment.sentinelUser = try string(table, "sentinel-user")
        deployment.password = try secret(table, "password")
        deployment.sentinelPassword = try secret(table, "sentinel-password")
        try readTLS(table, into: &deployment)
        deployment.natmap = try natmap(table)
        deployment.connectTimeout = try seconds(table, "connect-timeout")
        deployment.sentinelTimeout = try seconds(table, "sentinel-timeout")
        deployment.timeout = try seconds(table, "timeout")
        if let label = try string(table, "prompt-label") { deployment.promptLabel = label }
        if let colour = try string(table, "prompt-color") {
            guard let known = PromptColour(rawValue: colour) else {
                throw error("prompt-color", "[\(name)]: prompt-color is one of \(PromptColour.allCases.map(\.rawValue).joined(separator: ", ")), not '\(colour)'")
            }
            deployment.promptColour = known
        }
        return deployment
    }

    private func string(_ table: TOMLTable, _ key: String) throws(DeploymentFileError) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else { throw error(key, "[\(name)]: \(key) takes a string, not \(value.type)") }
        return text
    }

    private func bool(_ table: TOMLTable, _ key: String) throws(DeploymentFileError) -> Bool {
        guard let value = table[key] else { return false }
        guard let flag = value.bool else { throw error(key, "[\(name)]: \(key) takes true or false, not \(value.type)") }
        return flag
    }

    private func strings(_ table: TOMLTable, _ key: String) throws(DeploymentFileError) -> [String] {
        guard let value = table[key] else { return [] }
        if let one = value.string { return [one] }
        guard let array = value.array else { throw error(key, "[\(name)]: \(key) takes a list of strings, not \(value.type)") }
        var texts: [String] = []
        for element in array {
            guard let text = element.string else { throw error(key, "[\(name)]: \(key) takes a list of strings; one is \(element.type)") }
            texts.append(text)
        }
        return texts
    }

    private func sentinels(_ table: TOMLTable) throws(DeploymentFileError) -> [String] {
        let texts = try strings(table, "sentinels").flatMap { $0.split(separator: ",").map { String($0).trimmingSpaces } }
        guard !texts.isEmpty else { throw error("sentinels", "[\(name)] needs sentinels = [\"host:port\", ...]") }
        for text in texts where ServerAddress(text, defaultPort: 26379) == nil {
            throw error("sentinels", "[\(name)]: '\(text)' is not a sentinel address (host:port)")
        }
        return texts
    }

    private func database(_ table: TOMLTable) throws(DeploymentFileError) -> Int? {
        guard let value = table["db"] else { return nil }
        guard let number = value.int, number >= 0 else { throw error("db", "[\(name)]: db takes a number from 0, not \(value)") }
        return number
    }

    private func seconds(_ table: TOMLTable, _ key: String) throws(DeploymentFileError) -> Double? {
        guard let value = table[key] else { return nil }
        guard let seconds = value.double ?? value.int.map(Double.init), seconds > 0 else {
            throw error(key, "[\(name)]: \(key) takes a number of seconds above 0, not \(value)")
        }
        return seconds
    }

    /// `key`, `key-env` or `key-command`: at most one of them.
    private func secret(_ table: TOMLTable, _ key: String) throws(DeploymentFileError) -> SecretSource? {
        let given = [key, "\(key)-env", "\(key)-command"].filter { table[$0] != nil }
        guard given.count <= 1 else { throw error(given[1], "[\(name)]: \(given.joined(separator: ", ")) exclude each other") }
        if let inline = try string(table, key) { return .inline(inline) }
        if let variable = try string(table, "\(key)-env") { return .environment(variable) }
        if let command = try string(table, "\(key)-command") { return .command(command) }
        return nil
    }

    private func natmap(_ table: TOMLTable) throws(DeploymentFileError) -> [String] {
        let entries = try strings(table, "natmap")
        var map = AddressMap()
        for entry in entries {
            do { try map.add(entry) } catch { throw self.error("natmap", "[\(name)]: \(error)") }
        }
        return entries
    }

    private func readTLS(_ table: TOMLTable, into deployment: inout Deployment) throws(DeploymentFileError) {
        deployment.tls.enabled = try bool(table, "tls")
        deployment.tls.caCertificateFile = try path(table, "cacert")
        deployment.tls.caCertificateDirectory = try path(table, "cacertdir")
        deployment.tls.certificateFile = try path(table, "cert")
        deployment.tls.keyFile = try path(table, "key")
        deployment.tls.serverName = try string(table, "sni")
        deployment.tls.insecure = try bool(table, "insecure")
        deployment.sentinelTLS.enabled = try bool(table, "sentinel-tls")
        deployment.sentinelTLS.caCertificateFile = try path(table, "sentinel-cacert")
        deployment.sentinelTLS.certificateFile = try path(table, "sentinel-cert")
        deployment.sentinelTLS.keyFile = try path(table, "sentinel-key")
        let dataFiles = ["cacert", "cacertdir", "cert", "key", "sni", "insecure"].filter { table[$0] != nil }
        if let first = dataFiles.first, !deployment.tls.enabled && !deployment.sentinelTLS.enabled {
            throw error(first, "[\(name)]: \(first) needs tls = true or sentinel-tls = true")
        }
        if let first = ["sentinel-cacert", "sentinel-cert", "sentinel-key"].first(where: { table[$0] != nil }), !deployment.sentinelTLS.enabled {
            throw error(first, "[\(name)]: \(first) needs sentinel-tls = true")
        }
        for (certificate, key) in [("cert", "key"), ("sentinel-cert", "sentinel-key")] where (table[certificate] == nil) != (table[key] == nil) {
            throw error(table[certificate] == nil ? key : certificate, "[\(name)]: \(certificate) and \(key) go together")
        }
    }

    /// A file's path: `~/` is the home directory, and a relative path is the config file's directory's.
    private func path(_ table: TOMLTable, _ key: String) throws(DeploymentFileError) -> String? {
        guard let text = try string(table, key) else { return nil }
        if text.hasPrefix("~/") { return (ProcessEnvironment.value("HOME") ?? "") + text.dropFirst() }
        if text.hasPrefix("/") { return text }
        let directory = file.contains("/") ? String(file[..<file.lastIndex(of: "/")!]) : "."
        return "\(directory)/\(text)"
    }
}
