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

    /// `master_repl_offset` of an `INFO replication` reply.
    static func masterOffset(_ info: String) -> Int64? { Int64(fields(info)["master_repl_offset"] ?? "") }

    /// `slave_repl_offset` of a replica's `INFO replication` reply.
    static func replicaOffset(_ info: String) -> Int64? { Int64(fields(info)["slave_repl_offset"] ?? "") }
}
