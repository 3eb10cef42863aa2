import NIOCore
import RESP
import Testing

@testable import REPL
@testable import SentinelClient

/// `--pipe`: where the input's commands end, as the server splits them, and the
/// account of what became of each.
@Suite struct PipeTests {
    private func split(_ text: String, _ splitter: inout RESPInputSplitter) -> RESPInputSplitter.Split {
        Array(text.utf8).withUnsafeBytes { splitter.split($0) }
    }

    @Test func commandsEndWhereTheServerEndsThem() {
        var splitter = RESPInputSplitter()
        let set = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n"
        // An empty line and *0 make no command: their bytes go with the next one.
        let result = split(set + "\r\n*0\r\nGET k\r\n   \n" + "*2\r\n$3\r\nGET\r\n$1", &splitter)
        #expect(result.ends == [set.utf8.count, set.utf8.count + 2 + 4 + 7])
        #expect(result.scanned == set.utf8.count + 13 + 4, "the blank line after the last command was parsed whole")
        #expect(splitter.offset == set.utf8.count + 13, "the incomplete command and the blank line wait")
    }

    @Test func aBulkMayHoldCRLFAndACommandMaySpanChunks() {
        var splitter = RESPInputSplitter()
        #expect(split("*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb", &splitter).ends.isEmpty)
        #expect(split("*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n", &splitter).ends == [24])
        #expect(split("*0\r\n", &splitter) == RESPInputSplitter.Split(ends: [], scanned: 4), "no command, but whole")
    }

    /// A command read in parts, after a whole one: the scan goes on where it stopped, in the
    /// next chunk, which starts after the bytes consumed.
    @Test func anIncompleteCommandIsScannedOnFromWhereItStopped() {
        var splitter = RESPInputSplitter()
        let echo = Array("*3\r\n$4\r\nECHO\r\n$2\r\nab\r\n$3\r\ncde\r\n".utf8)
        let ping = Array("PING\r\n".utf8)
        func split(_ bytes: [UInt8]) -> RESPInputSplitter.Split { bytes.withUnsafeBytes { splitter.split($0) } }
        #expect(split(ping + echo.prefix(15)).ends == [6])
        #expect(splitter.scanResumesAt == 14, "at ECHO's second argument, counted in the next chunk")
        #expect(split(Array(echo.prefix(22))).ends.isEmpty, "two of three arguments in")
        #expect(splitter.scanResumesAt == 22)
        #expect(split(Array(echo.prefix(28))).ends.isEmpty, "the last one in part")
        #expect(splitter.scanResumesAt == 22)
        #expect(split(echo + Array("GET k\r\n".utf8)).ends == [echo.count, echo.count + 7])
        #expect(splitter.offset == ping.count + echo.count + 7)
        var malformedLater = RESPInputSplitter()
        #expect(self.split("*2\r\n$1\r\na\r\n", &malformedLater).ends.isEmpty)
        #expect(self.split("*2\r\n$1\r\na\r\nx1\r\n", &malformedLater).malformed == RESPInputSplitter.Malformed(offset: 11, reason: "expected '$', got 'x'"))
    }

    @Test func malformedInputIsNamedByItsByteAndTheCommandsBeforeItStand() {
        var splitter = RESPInputSplitter()
        let before = split("PING\r\n*1\r\nx3\r\nGET\r\n", &splitter)
        #expect(before.ends == [6] && before.malformed == RESPInputSplitter.Malformed(offset: 10, reason: "expected '$', got 'x'"))
        var fresh = RESPInputSplitter()
        #expect(split("*1a\r\n", &fresh).malformed == RESPInputSplitter.Malformed(offset: 0, reason: "invalid multibulk length"))
        #expect(split("*1\r\n$-0\r\n", &fresh).malformed?.reason == "invalid bulk length", "-0 is not a length, as string2ll says")
        #expect(split("*1\r\nx", &fresh).malformed == nil, "the bulk header is judged once its line is in")
    }

    @Test func everyCommandIsAccountedForOnceAndTheRestStartsAtTheFirstThatDidNotRun() {
        let address = ServerAddress(host: "127.0.0.1", port: 6379)
        var tally = PipeTally()
        let ok = RESPValue.simpleString(ByteBuffer(string: "OK"))
        let readOnly = RESPValue.error(ByteBuffer(string: "READONLY You can't write against a read only replica."))
        let errors = tally.record([.success(ok), .success(readOnly), .success(ok)], base: 100, ends: [10, 20, 30], from: address)
        #expect(String(decoding: errors, as: UTF8.self) == "READONLY You can't write against a read only replica.\n")
        let lost: [Result<RESPValue, SentinelClientError>] = [
            .failure(.commandInDoubt(command: "", address: address, reason: "the server closed the connection")),
            .failure(.commandNotSent(command: "", address: address, reason: "the server closed the connection")),
        ]
        _ = tally.record(lost, base: 130, ends: [5, 9], from: address)
        tally.unsent(7, from: 139)
        #expect(tally.replies == 3 && tally.errors == 1 && tally.readOnly == 1 && tally.inDoubt == 1 && tally.notSent == 8)
        #expect(tally.resumeOffset == 110, "the READONLY one did not run")
        let report = tally.stopReport() ?? ""
        #expect(report.contains("127.0.0.1:6379 is no longer the master (READONLY)"))
        #expect(report.contains("Of 12 commands: 3 answered (1 of them refused with READONLY: not run), 1 in doubt"))
        #expect(report.contains("tail -c +111 FILE"))
        #expect(PipeTally().stopReport() == nil, "a run that did not stop reports nothing more")
    }

    /// After a stop the input read on is counted before the chunks still in flight settle:
    /// the rest starts at the earliest command not run, whichever was counted first.
    @Test func theRestStartsAtTheEarliestCommandNotRunWhateverTheOrderCounted() {
        let address = ServerAddress(host: "127.0.0.1", port: 6379)
        var tally = PipeTally()
        tally.unsent(5, from: 900)
        let lost: [Result<RESPValue, SentinelClientError>] = [
            .failure(.commandInDoubt(command: "", address: address, reason: "the server closed the connection")),
            .failure(.commandNotSent(command: "", address: address, reason: "the server closed the connection")),
        ]
        _ = tally.record(lost, base: 700, ends: [50, 100], from: address)
        #expect(tally.resumeOffset == 750 && tally.notSent == 6 && tally.inDoubt == 1)
    }
}
