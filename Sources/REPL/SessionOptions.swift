import NIOCore
import RESP
import SentinelClient
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

package struct SessionOptions: Sendable {
    package var masterName: String
    package var database: Int
    package var mode: ReplyRenderer.Mode
    /// nil: no history file.
    package var historyFile: String?
    /// `-e`: exit 1 when a command got an error reply (non-interactive modes).
    package var exitOnErrorReply = false
    /// `-i`: seconds between the repetitions of `N command` and `-r`.
    package var repeatInterval: Double = 0
    /// How Sentinel's events read: plain words (the default), raw with `--verbose`
    /// (`:events on|raw|off` changes it at the prompt).
    package var eventStyle = FailoverNarrator.Style.plain
    /// `--events` outside the prompt: topology notices on stderr, one line each, with a timestamp.
    package var eventsOnStderr = false
    /// At the prompt, dangerous commands ask first (`--yes` and `:safe off` turn it off).
    package var confirmDangerous = true
    /// KEYS and whole-key reads ask first above this many keys or elements (`--confirm-above`).
    package var confirmAbove = 100_000

    /// A named deployment's label before the prompt.
    package var promptLabel: PromptLabel?

    package init(masterName: String, database: Int, mode: ReplyRenderer.Mode, historyFile: String?) {
        self.masterName = masterName
        self.database = database
        self.mode = mode
        self.historyFile = historyFile
    }
}
