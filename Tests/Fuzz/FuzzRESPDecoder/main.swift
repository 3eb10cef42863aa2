import NIOCore
import RESP

/// The decoder, fed the input whole and in three pieces (the first two bytes say where
/// it is cut): it never crashes, and both ways give the same values or both throw.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESPDecoder(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard bytes.count > 2 else { return 0 }
    let data = Array(bytes.dropFirst(2))
    let cuts = [Int(bytes[0]) % (data.count + 1), Int(bytes[1]) % (data.count + 1)].sorted()
    let whole = decodeAll([data[...]])
    let pieces = decodeAll([data[..<cuts[0]], data[cuts[0]..<cuts[1]], data[cuts[1]...]])
    // Compared as text: a NaN double is not equal to itself.
    precondition(
        whole.threw == pieces.threw && String(reflecting: whole.0) == String(reflecting: pieces.0),
        "a reply decodes the same whatever the read boundaries")
    return 0
}

/// Every value the pieces hold, in order, and whether the decoder threw.
private func decodeAll(_ pieces: [ArraySlice<UInt8>]) -> ([RESPValue], threw: Bool) {
    var decoder = RESPDecoder()
    var buffer = ByteBuffer()
    var values: [RESPValue] = []
    do {
        for piece in pieces {
            buffer.writeBytes(piece)
            while let value = try decoder.decode(&buffer) { values.append(value) }
        }
        return (values, false)
    } catch {
        return (values, true)
    }
}
