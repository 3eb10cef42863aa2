import CLibedit
import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// What one call to `readLine` produced.
package enum EditorInput: Sendable, Equatable {
    case line(String)
    /// Ctrl-C at the prompt: the line was abandoned.
    case interrupted
    /// Ctrl-D on an empty line, end of input, or a shutdown request.
    case endOfInput
    /// Several complete lines arrived in one burst (a paste). When `firstShown`,
    /// the first one was edited and shown at the prompt already.
    case batch([[UInt8]], firstShown: Bool)
}
