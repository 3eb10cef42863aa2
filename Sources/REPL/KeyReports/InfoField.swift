/// redis-cli's `getInfoField` and `getLongInfoField`: the first occurrence of the name
/// anywhere in the INFO text (as `strstr` finds it), its value up to `\r` or `,`.
enum InfoField {
    static func text(_ info: [UInt8], _ field: String) -> String? {
        let name = Array(field.utf8)
        guard !name.isEmpty, info.count > name.count else { return nil }
        var start = 0
        while start + name.count <= info.count {
            if info[start..<start + name.count].elementsEqual(name) {
                let valueStart = start + name.count + 1
                guard valueStart <= info.count else { return "" }
                let end = info[valueStart...].firstIndex { $0 == 13 || $0 == 44 } ?? info.count
                return String(decoding: info[valueStart..<end], as: UTF8.self)
            }
            start += 1
        }
        return nil
    }

    /// `atol` of the value; nil (redis-cli's `LONG_MIN`) when the field is missing.
    static func long(_ info: [UInt8], _ field: String) -> Int? {
        guard let value = text(info, field) else { return nil }
        var digits = Substring(value.drop { $0 == " " })
        let negative = digits.first == "-"
        if negative || digits.first == "+" { digits = digits.dropFirst() }
        let number = Int(digits.prefix { $0.isASCII && $0.isNumber }) ?? 0
        return negative ? -number : number
    }
}
