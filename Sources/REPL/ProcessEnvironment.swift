import Dispatch
import Logging
import NIOPosix
import RESP
import SentinelClient
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// The process environment, read in one place.
package enum ProcessEnvironment {
    package static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
