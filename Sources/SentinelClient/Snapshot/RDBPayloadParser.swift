/// What a node sends after `SYNC` (with `REPLCONF capa eof`), as it comes: newlines while
/// it prepares (keep-alives), one header line (`$<size>`, `$EOF:<40-byte mark>`, or an
/// error), then the payload, which ends after `size` bytes or with the mark. The payload
/// goes out without the mark. As `sendSync` and `getRDB` of redis-cli read it.
struct RDBPayloadParser {
    static let markSize = 40

    enum Header: Equatable {
        case size(Int)
        case mark([UInt8])
    }

    enum Failure: Error, Equatable {
        /// The node answered SYNC with an error line.
        case refused(String)
        case malformedHeader(String)
    }

    private(set) var header: Header?
    private(set) var finished = false
    /// Payload bytes handed out so far.
    private(set) var delivered = 0
    private var headerLine: [UInt8] = []
    /// Mark mode: the last bytes seen, held back until more come (they may be the mark).
    private var tail: [UInt8] = []

    /// The payload bytes among `bytes`, once the header is through.
    mutating func feed(_ bytes: [UInt8]) throws(Failure) -> [UInt8] {
        var rest = bytes[...]
        if header == nil {
            rest = try readHeader(rest)
            guard header != nil else { return [] }
        }
        guard !finished else { return [] }
        switch header! {
        case .size(let size):
            let taken = Array(rest.prefix(size - delivered))
            delivered += taken.count
            finished = delivered == size
            return taken
        case .mark(let mark):
            tail += rest
            finished = tail.count >= Self.markSize && tail.suffix(Self.markSize).elementsEqual(mark)
            let out = Array(tail.dropLast(Self.markSize))
            tail.removeFirst(out.count)
            delivered += out.count
            return out
        }
    }

    /// Takes keep-alive newlines and the header line from `bytes`; returns what follows it.
    private mutating func readHeader(_ bytes: ArraySlice<UInt8>) throws(Failure) -> ArraySlice<UInt8> {
        var rest = bytes
        while let byte = rest.popFirst() {
            guard byte == 10 else {
                headerLine.append(byte)
                continue
            }
            if headerLine.isEmpty { continue }  // a keep-alive
            if headerLine.last == 13 { headerLine.removeLast() }
            header = try Self.parse(headerLine)
            return rest
        }
        return rest
    }

    private static func parse(_ line: [UInt8]) throws(Failure) -> Header {
        let text = String(decoding: line, as: UTF8.self)
        if line.first == UInt8(ascii: "-") { throw .refused(String(text.dropFirst())) }
        guard line.first == UInt8(ascii: "$") else { throw .malformedHeader(text) }
        if line.starts(with: Array("$EOF:".utf8)) && line.count >= 5 + markSize {
            return .mark(Array(line[5..<(5 + markSize)]))
        }
        guard let size = Int(text.dropFirst()), size >= 0 else { throw .malformedHeader(text) }
        return .size(size)
    }
}
