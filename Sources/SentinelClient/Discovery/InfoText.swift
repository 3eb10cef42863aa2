/// The text of an `INFO` reply.
enum InfoText {
    /// `field:value` lines as a dictionary (a value keeps its own colons); section
    /// headers and blank lines are left out.
    static func fields(_ info: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in info.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }
}
