import Testing

@testable import SentinelClient

/// `--natmap`: what is dialled for each address Sentinel names.
@Suite struct AddressMapTests {
    @Test func anExactEntryWinsOverABareHostAndTheRestIsLeftAsItIs() throws {
        var map = AddressMap()
        try map.add("10.0.0.5=127.0.0.1")
        try map.add("10.0.0.5:6379=127.0.0.1:16379")
        try map.add("[fd00::7]:6380=localhost:26380")
        #expect(map.dialled(ServerAddress(host: "10.0.0.5", port: 6379)) == ServerAddress(host: "127.0.0.1", port: 16379))
        #expect(map.dialled(ServerAddress(host: "10.0.0.5", port: 6380)) == ServerAddress(host: "127.0.0.1", port: 6380))
        #expect(map.dialled(ServerAddress(host: "fd00::7", port: 6380)) == ServerAddress(host: "localhost", port: 26380))
        #expect(map.dialled(ServerAddress(host: "10.0.0.6", port: 6379)) == ServerAddress(host: "10.0.0.6", port: 6379))
        #expect(map.description == "10.0.0.5=127.0.0.1, 10.0.0.5:6379=127.0.0.1:16379, [fd00::7]:6380=localhost:26380")
        #expect(map.covers(ServerAddress(host: "10.0.0.5", port: 7000)) && !map.covers(ServerAddress(host: "fd00::7", port: 6379)))
    }

    @Test func malformedEntriesSayWhatIsWrong() {
        var map = AddressMap()
        #expect(throws: AddressMap.ParseError.self) { try map.add("10.0.0.5:6379") }
        #expect(throws: AddressMap.ParseError(text: "10.0.0.5=127.0.0.1:16379", reason: "a bare host maps every port, so its target is a bare host too")) {
            try map.add("10.0.0.5=127.0.0.1:16379")
        }
        #expect(throws: AddressMap.ParseError.self) { try map.add("=127.0.0.1:1") }
        #expect(throws: AddressMap.ParseError.self) { try map.add("a:b:c=127.0.0.1") }
        #expect(map.isEmpty)
    }
}

/// A failure to reach an address no entry covers names the entry to add; one that
/// answered, a given sentinel, or any failure without a map, stays as it was.
@Suite struct UnmappedAddressTests {
    let sentinel = ServerAddress(host: "127.0.0.1", port: 26379)
    let mapped = ServerAddress(host: "10.0.0.5", port: 6379)
    let unmapped = ServerAddress(host: "10.0.0.7", port: 6379)

    func configuration(map entries: [String]) throws -> SentinelClientConfiguration {
        var configuration = SentinelClientConfiguration(sentinels: [sentinel], masterName: "m")
        for entry in entries { try configuration.addressMap.add(entry) }
        return configuration
    }

    @Test func onlyAnUnreachedUnmappedAddressIsMarked() throws {
        let withMap = try configuration(map: ["10.0.0.5:6379=127.0.0.1:16379"])
        #expect(withMap.failureReaching(unmapped, .timedOut(milliseconds: 500)) == .notInAddressMap(unmapped, .timedOut(milliseconds: 500)))
        #expect(withMap.failureReaching(unmapped, .connectionRefused) == .notInAddressMap(unmapped, .connectionRefused))
        #expect(withMap.failureReaching(mapped, .connectionRefused) == .connectionRefused)
        #expect(withMap.failureReaching(sentinel, .connectionRefused) == .connectionRefused, "given sentinels are dialled as given")
        #expect(withMap.failureReaching(unmapped, .notAMaster(role: "slave")) == .notAMaster(role: "slave"), "it answered")
        #expect(try configuration(map: []).failureReaching(unmapped, .connectionRefused) == .connectionRefused)
        #expect(withMap.dialTarget(for: mapped) == ServerAddress(host: "127.0.0.1", port: 16379))
        #expect(withMap.dialTarget(for: unmapped) == unmapped)
    }

    @Test func discoveryNamesTheEntryToAddWhenEverySentinelNamesTheSameUnmappedMaster() throws {
        let discovery = Discovery(
            configuration: try configuration(map: ["10.0.0.5:6379=127.0.0.1:16379"]), logger: .init(label: "test"),
            dial: { _, _, _, _ in throw SentinelClientError.shutDown })
        let other = ServerAddress(host: "127.0.0.1", port: 26380)
        let timedOut = FailureReason.notInAddressMap(unmapped, .timedOut(milliseconds: 500))
        let error = discovery.classify([
            DiscoveryAttempt(sentinel: sentinel, namedMaster: unmapped, reason: timedOut),
            DiscoveryAttempt(sentinel: other, namedMaster: unmapped, reason: timedOut),
        ])
        #expect(error.code == .noVerifiedMaster && error.address == unmapped)
        #expect(
            error.description
                == "Sentinel names 10.0.0.7:6379 as the master of 'm'; it is not reached (no answer within 500 ms) and no address map entry covers it: add natmap 10.0.0.7:6379=HOST:PORT")
        let split = discovery.classify([
            DiscoveryAttempt(sentinel: sentinel, namedMaster: unmapped, reason: timedOut),
            DiscoveryAttempt(sentinel: other, namedMaster: mapped, reason: .connectionRefused),
        ])
        #expect(split.description.hasPrefix("no reachable master for 'm'"), "sentinels that disagree: \(split)")
    }
}

/// `natmap=` in a URL's query: repeatable, its value FROM=TO (a raw '=' or %3D).
@Suite struct AddressMapURLTests {
    @Test func theURLCarriesTheMapInOrder() throws {
        let url = try SentinelURL("redis+sentinel://127.0.0.1:26379/mymaster?natmap=10.0.0.5:6379=127.0.0.1:16379&natmap=10.0.0.6%3D127.0.0.1")
        #expect(url.addressMap.description == "10.0.0.5:6379=127.0.0.1:16379, 10.0.0.6=127.0.0.1")
        #expect(try SentinelClientConfiguration(url: url).addressMap == url.addressMap)
        #expect(throws: SentinelURLError.self) { try SentinelURL("redis+sentinel://127.0.0.1/mymaster?natmap=10.0.0.5") }
    }
}
