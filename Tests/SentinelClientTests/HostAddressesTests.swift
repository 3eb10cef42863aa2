import Testing

@testable import SentinelClient

/// Telling whether a host name and an address are the same host (a replica's ROLE
/// names its master as it was told, by IP or by name).
struct HostAddressesTests {
    @Test func anAddressStandsForItselfInCanonicalForm() async {
        #expect(await HostAddresses.of("127.0.0.1") == ["127.0.0.1"])
        #expect(await HostAddresses.of("0:0:0:0:0:0:0:1") == ["::1"])
        #expect(await HostAddresses.of("::1") == ["::1"])
    }

    @Test func aNameStandsForWhatItResolvesTo() async {
        // /etc/hosts names localhost on every Debian machine; ::1 may be listed too.
        let localhost = await HostAddresses.of("localhost")
        #expect(localhost.contains("127.0.0.1"))
        #expect(localhost.isSubset(of: ["127.0.0.1", "::1"]))
    }

    @Test func aNameThatResolvesToNothingStandsForNothing() async {
        #expect(await HostAddresses.of("no-such-host.invalid").isEmpty)
    }
}
