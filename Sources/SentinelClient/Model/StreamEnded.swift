import NIOCore
import RESP

/// A streaming command's connection ended for another reason than the client closing it.
public struct StreamEnded: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "the stream ended: \(reason)" }
}
