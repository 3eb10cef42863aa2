import Foundation
import Testing

@testable import REPL

/// The editor after `close`: a late prompt change or shutdown request (an event
/// task that outlived the session used to make them) reaches nothing.
@Suite struct LineEditorTests {
    @Test func nothingIsWrittenAfterClose() throws {
        var outputPipe: [Int32] = [0, 0]
        #expect(pipe(&outputPipe) == 0)
        defer { outputPipe.forEach { Foundation.close($0) } }
        let editor = LineEditor(program: "sentinel-repl-test", output: TerminalOutput(fd: outputPipe[1]))
        editor.close()
        // The editor's wake-up pipe is closed: a pipe made now may get its descriptors.
        var reused: [Int32] = [0, 0]
        #expect(pipe(&reused) == 0)
        defer { reused.forEach { Foundation.close($0) } }
        editor.setPrompt("late> ", notices: ["-- a late notice"])
        editor.requestShutdown()
        editor.terminalResized()
        editor.close()  // twice is fine
        for fd in [outputPipe[0], reused[0]] {
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            var byte: UInt8 = 0
            #expect(read(fd, &byte, 1) == -1, "fd \(fd) got a byte after close")
        }
    }
}
