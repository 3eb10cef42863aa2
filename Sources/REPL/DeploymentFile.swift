import SentinelClient

#if canImport(Glibc)
    import Glibc
#endif

/// The config file's named deployments (`$XDG_CONFIG_HOME/sentinel-repl/config.toml`):
/// each top-level table is one, `[prod]`, with the keys of the options it stands for.
/// Read strictly: an unknown key, a value of the wrong kind or a password in a file
/// others can read is one line naming the file and the line.
package struct DeploymentFile: Sendable {
    package var path: String
    /// In the order of the file.
    package var deployments: [Deployment]

    /// `--config`, else env `SENTINEL_REPL_CONFIG`, else `$XDG_CONFIG_HOME` (or `~/.config`)
    /// `/sentinel-repl/config.toml`.
    package static func path(given: String?) -> String {
        if let given { return given }
        if let file = ProcessEnvironment.value("SENTINEL_REPL_CONFIG"), !file.isEmpty { return file }
        let home = ProcessEnvironment.value("HOME") ?? ""
        let base = ProcessEnvironment.value("XDG_CONFIG_HOME").flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "\(home)/.config"
        return "\(base)/sentinel-repl/config.toml"
    }

    package static func load(_ path: String) throws(DeploymentFileError) -> DeploymentFile {
        let (text, info) = try read(path)
        let config: ConfigText
        do { config = try ConfigText(parsing: text) } catch {
            throw DeploymentFileError(file: path, line: error.line, message: error.message)
        }
        if let key = config.topLevel.keys.first {
            throw DeploymentFileError(
                file: path, line: config.topLevel.line(of: key), message: "'\(key)' is not a deployment: each deployment is a table, [\(key)]")
        }
        var deployments: [Deployment] = []
        for table in config.tables {
            deployments.append(try DeploymentReader(file: path, table: table).read())
        }
        try checkSecretsAreOwnerOnly(path, info, deployments, config)
        return DeploymentFile(path: path, deployments: deployments)
    }

    package func deployment(named name: String) throws(DeploymentFileError) -> Deployment {
        guard let found = deployments.first(where: { $0.name == name }) else {
            let known = deployments.isEmpty ? "it names none" : "it names " + deployments.map(\.name).joined(separator: ", ")
            throw DeploymentFileError(file: path, line: nil, message: "no deployment '\(name)' (\(known))")
        }
        return found
    }

    /// The file's text, and what `fstat` says of the file read.
    private static func read(_ path: String) throws(DeploymentFileError) -> (String, stat) {
        guard let file = fopen(path, "r") else {
            let reason = String(cString: strerror(errno))
            throw DeploymentFileError(file: path, line: nil, message: "cannot read it (\(reason)); named deployments live there (README, 'Named deployments')")
        }
        defer { fclose(file) }
        var info = stat()
        guard fstat(fileno(file), &info) == 0 else {
            throw DeploymentFileError(file: path, line: nil, message: "cannot stat it (\(String(cString: strerror(errno))))")
        }
        guard let text = String(validating: readAll(file), as: UTF8.self) else {
            throw DeploymentFileError(file: path, line: nil, message: "is not UTF-8 text")
        }
        return (text, info)
    }

    /// As ssh refuses a private key others can read and a config others can change: a
    /// file holding a password must be its owner's alone (mode 0600 or stricter), and one
    /// naming a command to run for it may be written by its owner alone.
    private static func checkSecretsAreOwnerOnly(
        _ path: String, _ info: stat, _ deployments: [Deployment], _ config: ConfigText
    ) throws(DeploymentFileError) {
        let mode = info.st_mode & 0o777
        let octal = "0" + String(mode, radix: 8)
        for deployment in deployments {
            for (key, source) in [("password", deployment.password), ("sentinel-password", deployment.sentinelPassword)] {
                let (named, holds, problem): (String, String, String?)
                switch source {
                case .inline?:
                    (named, holds) = (key, "holds a password")
                    problem = mode & 0o077 != 0 ? "others than its owner may read it (mode \(octal)): chmod 600 \(path), or use \(key)-env or \(key)-command" : nil
                case .command?:
                    (named, holds) = ("\(key)-command", "names a command for a password")
                    problem = mode & 0o022 != 0 ? "others than its owner may change it (mode \(octal)): chmod go-w \(path)" : nil
                default:
                    continue
                }
                let line = config.tables.first { $0.name == deployment.name }?.line(of: named)
                if let problem { throw DeploymentFileError(file: path, line: line, message: "\(holds) ([\(deployment.name)] \(named)) and \(problem)") }
                if info.st_uid != geteuid() {
                    throw DeploymentFileError(file: path, line: line, message: "\(holds) ([\(deployment.name)] \(named)) and belongs to another user (uid \(info.st_uid))")
                }
            }
        }
    }
}
