import Dispatch
import Logging
import NIOPosix
import RESP
import SentinelClient
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// `--sentinel-tls` and the sentinels' own files (nil: the data nodes').
package struct SentinelTLSFiles: Sendable, Equatable {
    package var enabled = false
    package var caCertificateFile: String?
    package var certificateFile: String?
    package var keyFile: String?
    package init() {}
}

/// redis-cli's TLS options for one kind of server.
package struct TLSOptions: Sendable, Equatable {
    package var enabled = false
    /// `--cacert`: PEM file of the CAs to trust (default: the system's).
    package var caCertificateFile: String?
    /// `--cacertdir`: directory of hashed CA files (`openssl rehash`).
    package var caCertificateDirectory: String?
    /// `--cert` and `--key`: a client certificate for servers that ask for one.
    package var certificateFile: String?
    package var keyFile: String?
    /// `--sni`: the name sent and checked against the certificate instead of the host.
    package var serverName: String?
    /// `--insecure`: no certificate check at all.
    package var insecure = false
    package init() {}

    /// The sentinels' options: their own files where given, else the data nodes'.
    package func forSentinels(enabled: Bool, caCertificateFile: String?, certificateFile: String?, keyFile: String?)
        -> TLSOptions
    {
        var sentinels = self
        sentinels.enabled = enabled
        sentinels.serverName = nil
        sentinels.caCertificateFile = caCertificateFile ?? self.caCertificateFile
        if certificateFile != nil || keyFile != nil {
            sentinels.certificateFile = certificateFile
            sentinels.keyFile = keyFile
        }
        return sentinels
    }
}
