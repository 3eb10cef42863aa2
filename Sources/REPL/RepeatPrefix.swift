import NIOCore
import RESP
import SentinelClient
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// redis-cli's repeat prefix: `5 INCR n` runs `INCR n` five times.
enum RepeatPrefix: Equatable {
    case none
    case times(Int)
    /// A number that is zero, negative or too large.
    case invalid

    /// A first word that is a whole number (strtol's form: an optional sign, digits)
    /// followed by more words is a repeat count.
    init(_ words: RESPCommand) {
        guard words.count > 1, let first = words.first, let lead = first.first,
            lead == UInt8(ascii: "-") || lead == UInt8(ascii: "+") || (48...57).contains(lead)
        else {
            self = .none
            return
        }
        let digits = lead == UInt8(ascii: "-") || lead == UInt8(ascii: "+") ? first.dropFirst() : first[...]
        guard !digits.isEmpty, digits.allSatisfy({ (48...57).contains($0) }) else {
            self = .none
            return
        }
        guard let count = Int(String(decoding: first, as: UTF8.self)), count > 0 else {
            self = .invalid
            return
        }
        self = .times(count)
    }
}
