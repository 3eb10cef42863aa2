import SentinelClient

/// The URL parser never crashes; a URL it takes names a master and sentinels with
/// ports in range, and its error text never holds the URL's userinfo.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSentinelURL(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    do {
        let url = try SentinelURL(text)
        precondition(!url.masterName.isEmpty && !url.sentinels.isEmpty, "a URL names a master and sentinels")
        precondition(url.sentinels.allSatisfy { (1...65535).contains($0.port) && !$0.host.isEmpty })
    } catch {
        // A password of 12 or more characters must not appear in the error (shorter ones
        // may match the error's own words), unless the rest of the URL holds it too (a
        // host the error names may), or it holds a backslash (the error's escapes may spell it).
        // Nor when the error says it with the password replaced: then it is the error's own
        // wording ("redis+sentinel://" holds "edis+sentinel:").
        if let (secret, rest) = password(in: text), secret.count >= 12, !rest.contains(secret), !secret.contains("\\"),
            !wording(of: masked(text, secret)).contains(secret)
        {
            precondition(!error.description.contains(secret), "the error repeats the password")
        }
    }
    return 0
}

/// What stands between the first ':' after "//" and the last '@' before the path, and
/// what follows that '@'.
private func password(in text: String) -> (Substring, rest: Substring)? {
    guard let scheme = text.firstRange(of: "://") else { return nil }
    let rest = text[scheme.upperBound...]
    let authority = rest.prefix { $0 != "/" && $0 != "?" }
    guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return nil }
    return (authority[authority.index(after: colon)..<at], text[text.index(after: at)...])
}

/// The parser's error text for `text` ("" when it takes it).
private func wording(of text: String) -> String {
    do {
        _ = try SentinelURL(text)
        return ""
    } catch {
        return error.description
    }
}

/// `text` with `secret` (a slice of it) replaced by as many Qs.
private func masked(_ text: String, _ secret: Substring) -> String {
    var masked = text
    masked.replaceSubrange(secret.startIndex..<secret.endIndex, with: String(repeating: "Q", count: secret.count))
    return masked
}
