import NIOCore
import NIOPosix
import RESP

public enum RESPProtocolVersion: Int, Sendable, Hashable {
    case resp2 = 2
    case resp3 = 3
}
