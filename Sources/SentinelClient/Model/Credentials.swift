import NIOCore
import NIOPosix
import RESP

/// Credentials for a data node or a sentinel.
public struct Credentials: Sendable, Hashable {
    public var user: String?
    public var password: String

    public init(user: String? = nil, password: String) {
        self.user = user
        self.password = password
    }
}
