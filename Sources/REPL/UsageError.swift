import Dispatch
import Logging
import NIOPosix
import RESP
import SentinelClient
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// A mistake on the command line (exit 2).
package struct UsageError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}
