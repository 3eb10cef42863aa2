import REPL

/// The command-line splitter never crashes, and what it splits, quoted back in
/// redis-cli's double-quoted form, splits into the same arguments.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommandLine(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let line = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let words = try? CommandLineSplitter.split(line) else { return 0 }
    let requoted = words.map(quoted).joined(separator: [32])
    let again = try? CommandLineSplitter.split(Array(requoted))
    precondition(again == words, "quoting the arguments back gives the same arguments")
    return 0
}

/// `"..."` with every byte as `\xHH`: the splitter's own escape.
private func quoted(_ word: [UInt8]) -> [UInt8] {
    let hex = Array("0123456789abcdef".utf8)
    return [34] + word.flatMap { [92, UInt8(ascii: "x"), hex[Int($0 >> 4)], hex[Int($0 & 15)]] } + [34]
}
