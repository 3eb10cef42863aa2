import RESP

/// What is wrong with a Sentinel URL, without the URL's password.
public struct SentinelURLError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    /// A part that is wrong (`invalid Sentinel URL: ...`).
    init(_ problem: String) { description = "invalid Sentinel URL: \(problem)" }
    /// A URL that is right but asks for what this version cannot do.
    init(unsupported: String) { description = unsupported }
}
