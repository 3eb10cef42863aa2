import NIOSSL
import SentinelClient

#if canImport(Glibc)
    import Glibc
#endif

extension TLSOptions {
    /// The client's TLS settings from these options; a file that cannot be read or
    /// parsed is a usage error that names the option and the file.
    func settings(optionPrefix prefix: String) throws(UsageError) -> SentinelClientConfiguration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if insecure { configuration.certificateVerification = .none }
        // A directory can only be the main trust root (NIOSSL reads added roots as files).
        var authorities: [NIOSSLCertificate] = []
        if let file = caCertificateFile { authorities = try Self.certificates(file, option: "--\(prefix)cacert") }
        if let directory = caCertificateDirectory {
            guard Self.isDirectory(directory) else { throw UsageError(message: "--cacertdir \(directory): not a directory") }
            configuration.trustRoots = .file(directory)
            if !authorities.isEmpty { configuration.additionalTrustRoots = [.certificates(authorities)] }
        } else if !authorities.isEmpty {
            configuration.trustRoots = .certificates(authorities)
        }
        if let certificateFile, let keyFile {
            let chain = try Self.certificates(certificateFile, option: "--\(prefix)cert")
            configuration.certificateChain = chain.map { .certificate($0) }
            do {
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            } catch {
                throw UsageError(message: "--\(prefix)key \(keyFile): \(Self.readProblem(keyFile, "a PEM private key"))")
            }
        }
        do {
            return try .enable(configuration, serverName: serverName)
        } catch {
            throw UsageError(message: "TLS could not be set up (\(error)); check --\(prefix)cert and --\(prefix)key belong together")
        }
    }

    private static func certificates(_ file: String, option: String) throws(UsageError) -> [NIOSSLCertificate] {
        do {
            return try NIOSSLCertificate.fromPEMFile(file)
        } catch {
            throw UsageError(message: "\(option) \(file): \(readProblem(file, "PEM certificates"))")
        }
    }

    /// Why a file did not load: the system's reason if it cannot be read, else its content.
    private static func readProblem(_ file: String, _ expected: String) -> String {
        let descriptor = open(file, O_RDONLY)
        guard descriptor >= 0 else { return String(cString: strerror(errno)) }
        close(descriptor)
        return "does not hold \(expected)"
    }

    private static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }
}
