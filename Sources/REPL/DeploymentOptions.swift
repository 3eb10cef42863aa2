import SentinelClient

extension REPLOptions {
    /// The options with the `@name` deployment read into them from the config file; what
    /// the command line gave wins over the file.
    package func resolvingDeployment() throws(UsageError) -> REPLOptions {
        guard let name = deployment else { return self }
        guard url == nil, !SentinelURL.looksLikeURL(masterName) else {
            throw UsageError(message: "@\(name) names the sentinels and the master: leave out the URL")
        }
        let found: Deployment
        do {
            found = try DeploymentFile.load(DeploymentFile.path(given: configFile)).deployment(named: name)
        } catch {
            throw UsageError(message: error.description)
        }
        let merged = applying(found)
        try merged.checkTLSFilesAreUsed(deployment: name)
        return merged
    }

    /// TLS files given on the command line for a deployment without TLS would be left
    /// unused, and the connection made in plaintext: a usage error instead.
    func checkTLSFilesAreUsed(deployment name: String) throws(UsageError) {
        let dataFiles = [tls.caCertificateFile, tls.caCertificateDirectory, tls.certificateFile, tls.keyFile].contains { $0 != nil } || tls.insecure
        if dataFiles && !tls.enabled && !sentinelTLSFiles.enabled {
            throw UsageError(message: "TLS files are given, but @\(name) uses no TLS: add --tls or --sentinel-tls (or tls = true in [\(name)])")
        }
        if tls.serverName != nil && !tls.enabled {
            throw UsageError(message: "--sni is for the data nodes, and @\(name) reaches them without TLS: add --tls (or tls = true in [\(name)])")
        }
        let sentinelFiles = [sentinelTLSFiles.caCertificateFile, sentinelTLSFiles.certificateFile, sentinelTLSFiles.keyFile].contains { $0 != nil }
        if sentinelFiles && !sentinelTLSFiles.enabled {
            throw UsageError(message: "sentinel TLS files are given, but @\(name) reaches its sentinels without TLS: add --sentinel-tls (or sentinel-tls = true in [\(name)])")
        }
    }

    /// These options over `deployment`'s: each option given here wins, field by field.
    package func applying(_ deployment: Deployment) -> REPLOptions {
        var merged = self
        merged.masterName = deployment.masterName
        if sentinels.isEmpty { merged.sentinels = deployment.sentinels }
        merged.database = database ?? deployment.database
        merged.user = user ?? deployment.user
        merged.sentinelUser = sentinelUser ?? deployment.sentinelUser
        if password == nil && !askPassword { merged.passwordSource = deployment.password }
        if sentinelPassword == nil { merged.sentinelPasswordSource = deployment.sentinelPassword }
        merged.tls = tls.over(deployment.tls)
        merged.sentinelTLSFiles = sentinelTLSFiles.over(deployment.sentinelTLS)
        if natmap.isEmpty { merged.natmap = deployment.natmap }
        merged.connectTimeout = connectTimeout ?? deployment.connectTimeout
        merged.sentinelTimeout = sentinelTimeout ?? deployment.sentinelTimeout
        merged.timeout = timeout ?? deployment.timeout
        merged.promptLabel = deployment.promptLabel
        merged.promptColour = deployment.promptColour
        return merged
    }
}

extension TLSOptions {
    /// These options, with `base`'s where none is given here.
    func over(_ base: TLSOptions) -> TLSOptions {
        var merged = self
        merged.enabled = enabled || base.enabled
        merged.caCertificateFile = caCertificateFile ?? base.caCertificateFile
        merged.caCertificateDirectory = caCertificateDirectory ?? base.caCertificateDirectory
        // The certificate and its key go together: both from here, or both from the base.
        (merged.certificateFile, merged.keyFile) = Self.pair((certificateFile, keyFile), over: (base.certificateFile, base.keyFile))
        merged.serverName = serverName ?? base.serverName
        merged.insecure = insecure || base.insecure
        return merged
    }
}

extension TLSOptions {
    static func pair(_ given: (String?, String?), over base: (String?, String?)) -> (String?, String?) {
        given.0 == nil && given.1 == nil ? base : given
    }
}

extension SentinelTLSFiles {
    func over(_ base: SentinelTLSFiles) -> SentinelTLSFiles {
        var merged = self
        merged.enabled = enabled || base.enabled
        merged.caCertificateFile = caCertificateFile ?? base.caCertificateFile
        (merged.certificateFile, merged.keyFile) = TLSOptions.pair((certificateFile, keyFile), over: (base.certificateFile, base.keyFile))
        return merged
    }
}
