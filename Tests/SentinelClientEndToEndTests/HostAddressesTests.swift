import Foundation
import NIOCore
import Testing

@testable import SentinelClient

/// Telling whether a host name and an address are the same host (a replica's ROLE
/// names its master as it was told, by IP or by name).
struct HostAddressesTests {
    @Test func anAddressStandsForItselfInCanonicalForm() async {
        #expect(await lookUp("127.0.0.1") == ["127.0.0.1"])
        #expect(await lookUp("0:0:0:0:0:0:0:1") == ["::1"])
        #expect(await lookUp("::1") == ["::1"])
    }

    @Test func aNameStandsForWhatItResolvesTo() async {
        // /etc/hosts names localhost on every Debian machine; ::1 may be listed too.
        let localhost = await lookUp("localhost")
        #expect(localhost.contains("127.0.0.1"))
        #expect(localhost.isSubset(of: ["127.0.0.1", "::1"]))
    }

    @Test func aNameThatResolvesToNothingStandsForNothing() async {
        #expect(await lookUp("no-such-host.invalid").isEmpty)
    }

    @Test func aResolverThatDoesNotAnswerInTimeStandsForNothing() async throws {
        let slow: @Sendable (String) -> Set<String> = { _ in
            Thread.sleep(forTimeInterval: 1)
            return ["10.0.0.1"]
        }
        #expect(await HostAddresses.of("slow.example", within: .milliseconds(50), resolver: slow).isEmpty)
        // The late answer arrives while the test still runs: it finds the lookup over and
        // leaves it alone.
        try await Task.sleep(for: .seconds(1.5))
        #expect(await HostAddresses.of("slow.example", within: .seconds(10), resolver: slow) == ["10.0.0.1"])
    }

    private func lookUp(_ host: String) async -> Set<String> {
        await HostAddresses.of(host, within: .seconds(10))
    }
}
