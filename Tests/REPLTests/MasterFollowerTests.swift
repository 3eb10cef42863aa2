import SentinelClient
import Testing

@testable import REPL

/// `--stat` and `--latency`: a mark when the master answering changes, one notice per
/// run of failures.
@Suite struct MasterFollowerTests {
    struct Unreachable: Error, CustomStringConvertible { var description: String { "no master" } }

    @Test func aMarkOnlyWhenTheMasterChangesAndOneNoticePerOutage() {
        let old = ServerAddress(host: "127.0.0.1", port: 6379)
        let new = ServerAddress(host: "127.0.0.1", port: 6380)
        var follower = MasterFollower()
        #expect(follower.answered(by: old) == nil && follower.answered(by: old) == nil)
        #expect(follower.failed(Unreachable())?.hasPrefix("-- no master reachable at ") == true)
        #expect(follower.failed(Unreachable()) == nil, "once, not once per retry")
        let mark = follower.answered(by: new)
        #expect(mark?.hasPrefix("-- master 127.0.0.1:6379 -> 127.0.0.1:6380 at ") == true, "\(mark ?? "nil")")
        #expect(follower.failed(Unreachable()) != nil, "a new outage is noticed again")
    }
}
