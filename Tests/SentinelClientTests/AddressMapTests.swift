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

/// `natmap=` in a URL's query: repeatable, its value FROM=TO (a raw '=' or %3D).
@Suite struct AddressMapURLTests {
    @Test func theURLCarriesTheMapInOrder() throws {
        let url = try SentinelURL("redis+sentinel://127.0.0.1:26379/mymaster?natmap=10.0.0.5:6379=127.0.0.1:16379&natmap=10.0.0.6%3D127.0.0.1")
        #expect(url.addressMap.description == "10.0.0.5:6379=127.0.0.1:16379, 10.0.0.6=127.0.0.1")
        #expect(try SentinelClientConfiguration(url: url).addressMap == url.addressMap)
        #expect(throws: SentinelURLError.self) { try SentinelURL("redis+sentinel://127.0.0.1/mymaster?natmap=10.0.0.5") }
    }
}
