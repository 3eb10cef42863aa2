import SentinelClient

/// Reads one deployment's table, key by key, into a `Deployment`; each mistake is an
/// error at the key's line.
struct DeploymentReader {
    let file: String
    let table: ConfigTable
    var name: String { table.name }

    static let stringKeys = [
        "master", "user", "sentinel-user", "cacert", "cacertdir", "cert", "key", "sni", "sentinel-cacert", "sentinel-cert",
        "sentinel-key", "prompt-label", "prompt-color", "password", "password-env", "password-command", "sentinel-password",
        "sentinel-password-env", "sentinel-password-command",
    ]
    static let knownKeys = Set(stringKeys + ["sentinels", "db", "tls", "sentinel-tls", "insecure", "natmap", "connect-timeout", "sentinel-timeout", "timeout"])

    func error(_ key: String?, _ message: String) -> DeploymentFileError {
        DeploymentFileError(file: file, line: table.line(of: key), message: message)
    }

    func read() throws(DeploymentFileError) -> Deployment {
        for key in table.keys where !Self.knownKeys.contains(key) {
            throw error(key, "[\(name)]: unknown key '\(key)' (known: \(Self.knownKeys.sorted().joined(separator: ", ")))")
        }
        var deployment = Deployment(name: name)
        guard let master = try string("master"), !master.isEmpty else { throw error(nil, "[\(name)] needs master = \"name Sentinel monitors\"") }
        deployment.masterName = master
        deployment.sentinels = try sentinels()
        deployment.database = try database()
        deployment.user = try string("user")
        deployment.sentinelUser = try string("sentinel-user")
        deployment.password = try secret("password")
        deployment.sentinelPassword = try secret("sentinel-password")
        try readTLS(into: &deployment)
        deployment.natmap = try natmap()
        deployment.connectTimeout = try seconds("connect-timeout")
        deployment.sentinelTimeout = try seconds("sentinel-timeout")
        deployment.timeout = try seconds("timeout")
        if let label = try string("prompt-label") { deployment.promptLabel = label }
        if let colour = try string("prompt-color") {
            guard let known = PromptColour(rawValue: colour) else {
                throw error("prompt-color", "[\(name)]: prompt-color is one of \(PromptColour.allCases.map(\.rawValue).joined(separator: ", ")), not '\(colour)'")
            }
            deployment.promptColour = known
        }
        return deployment
    }

    private func string(_ key: String) throws(DeploymentFileError) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else { throw error(key, "[\(name)]: \(key) takes a string, not \(value.kind)") }
        return text
    }

    private func bool(_ key: String) throws(DeploymentFileError) -> Bool {
        guard let value = table[key] else { return false }
        guard let flag = value.bool else { throw error(key, "[\(name)]: \(key) takes true or false, not \(value.kind)") }
        return flag
    }

    private func strings(_ key: String) throws(DeploymentFileError) -> [String] {
        guard let value = table[key] else { return [] }
        if let one = value.string { return [one] }
        guard let array = value.array else { throw error(key, "[\(name)]: \(key) takes a list of strings, not \(value.kind)") }
        var texts: [String] = []
        for element in array {
            guard let text = element.string else { throw error(key, "[\(name)]: \(key) takes a list of strings; one is \(element.kind)") }
            texts.append(text)
        }
        return texts
    }

    private func sentinels() throws(DeploymentFileError) -> [String] {
        let texts = try strings("sentinels").flatMap { $0.split(separator: ",").map { String($0).trimmingSpaces } }
        guard !texts.isEmpty else { throw error("sentinels", "[\(name)] needs sentinels = [\"host:port\", ...]") }
        for text in texts where ServerAddress(text, defaultPort: 26379) == nil {
            throw error("sentinels", "[\(name)]: '\(text)' is not a sentinel address (host:port)")
        }
        return texts
    }

    private func database() throws(DeploymentFileError) -> Int? {
        guard let value = table["db"] else { return nil }
        guard let number = value.int, number >= 0 else { throw error("db", "[\(name)]: db takes a number from 0, not \(value)") }
        return number
    }

    private func seconds(_ key: String) throws(DeploymentFileError) -> Double? {
        guard let value = table[key] else { return nil }
        guard let seconds = value.double ?? value.int.map(Double.init), REPLOptions.isValidSeconds(seconds) else {
            throw error(key, "[\(name)]: \(key) takes a number of seconds above 0, at most 31536000 (a year), not \(value)")
        }
        return seconds
    }

    /// `key`, `key-env` or `key-command`: at most one of them.
    private func secret(_ key: String) throws(DeploymentFileError) -> SecretSource? {
        let given = [key, "\(key)-env", "\(key)-command"].filter { table[$0] != nil }
        guard given.count <= 1 else { throw error(given[1], "[\(name)]: \(given.joined(separator: ", ")) exclude each other") }
        if let inline = try string(key) { return .inline(inline) }
        if let variable = try string("\(key)-env") { return .environment(variable) }
        if let command = try string("\(key)-command") { return .command(command) }
        return nil
    }

    private func natmap() throws(DeploymentFileError) -> [String] {
        let entries = try strings("natmap")
        var map = AddressMap()
        for entry in entries {
            do { try map.add(entry) } catch { throw self.error("natmap", "[\(name)]: \(error)") }
        }
        return entries
    }

    private func readTLS(into deployment: inout Deployment) throws(DeploymentFileError) {
        deployment.tls.enabled = try bool("tls")
        deployment.tls.caCertificateFile = try path("cacert")
        deployment.tls.caCertificateDirectory = try path("cacertdir")
        deployment.tls.certificateFile = try path("cert")
        deployment.tls.keyFile = try path("key")
        deployment.tls.serverName = try string("sni")
        deployment.tls.insecure = try bool("insecure")
        deployment.sentinelTLS.enabled = try bool("sentinel-tls")
        deployment.sentinelTLS.caCertificateFile = try path("sentinel-cacert")
        deployment.sentinelTLS.certificateFile = try path("sentinel-cert")
        deployment.sentinelTLS.keyFile = try path("sentinel-key")
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
    private func path(_ key: String) throws(DeploymentFileError) -> String? {
        guard let text = try string(key) else { return nil }
        if text.hasPrefix("~/") { return (ProcessEnvironment.value("HOME") ?? "") + text.dropFirst() }
        if text.hasPrefix("/") { return text }
        let directory = file.contains("/") ? String(file[..<file.lastIndex(of: "/")!]) : "."
        return "\(directory)/\(text)"
    }
}
