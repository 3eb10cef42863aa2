import Foundation
import TestTopology
import Testing

/// The committed shell completions must match what the command generates now.
@Suite struct CompletionScriptTests {
    @Test(arguments: [("bash", "sentinel-repl.bash"), ("zsh", "_sentinel-repl"), ("fish", "sentinel-repl.fish")])
    func committedScriptsAreCurrent(shell: String, file: String) throws {
        let generated = try Topology.run(sentinelREPLExecutable, ["--generate-completion-script", shell])
        #expect(generated.status == 0)
        let committed = try String(contentsOfFile: "\(Topology.repositoryRoot)/completions/\(file)", encoding: .utf8)
        #expect(!generated.stdout.isEmpty)
        #expect(generated.stdout == committed, "completions/\(file) is stale: run scripts/generate-completions.sh")
    }
}
