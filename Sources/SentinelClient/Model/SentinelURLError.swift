import RESP

/// What is wrong with a Sentinel URL, without the URL's password.
public struct SentinelURLError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    /// A part that is wrong (`invalid Sentinel URL: ...`).
    init(_ problem: String) { description = "invalid Sentinel URL: \(problem)" }
    /// A URL of another scheme (`redis://`): the schemes taken, and the same address in one.
    init(otherScheme scheme: String, rewritten: String) {
        description = "a \(Printable.escaped(scheme))://... URL names one server; a Sentinel URL starts with redis+sentinel:// "
            + "(or rediss+sentinel:// for TLS) and names the sentinels and the master: \(rewritten)"
    }
    /// A URL that is right but asks for what this version cannot do.
    init(unsupported: String) { description = unsupported }
}
