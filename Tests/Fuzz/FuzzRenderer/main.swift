import NIOCore
import REPL
import RESP

/// Random RESP3 values (the input decoded as RESP) rendered in every mode: no crash,
/// and every rendering ends with its newline.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRenderer(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var buffer = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    var decoder = RESPDecoder()
    while let value = try? decoder.decode(&buffer) {
        for mode in [ReplyRenderer.Mode.tty, .raw, .csv, .json, .quotedJSON] {
            let out = ReplyRenderer.render(value, mode: mode)
            precondition(out.last == 10, "a rendering ends with a newline")
        }
    }
    return 0
}
