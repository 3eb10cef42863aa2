import NIOSSL
import RESP
import TestTopology
import Testing

@testable import SentinelClient

/// The library over TLS, as an adopter configures it: NIOSSL's TLSConfiguration.
@Suite(.serialized, .timeLimit(.minutes(3 * testSlowdown)), .enabled(if: Topology.serverHasTLS, "the server has no TLS"))
struct TLSIntegrationTests {
    @Test func aClientOverTLSRunsCommandsAndTellsAWrongCAByCode() async throws {
        var options = Topology.Options()
        options.tls = true
        try await withTopology(options) { topology in
            let tlsDirectory = try #require(topology.tlsDirectory)
            func trusting(_ file: String) throws -> SentinelClientConfiguration.TLS {
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.trustRoots = .file(file)
                return try .enable(tls)
            }
            var configuration = topology.configuration()
            configuration.tls = try trusting("\(tlsDirectory)/ca.crt")
            configuration.sentinelTLS = configuration.tls
            let client = makeClient(configuration)
            let reply = try await running(client) {
                _ = try await client.verifiedMaster()
                return try await client.execute(RESPCommand("PING"))
            }
            #expect(reply.string == "PONG")

            var wrong = topology.configuration()
            wrong.tls = try trusting("\(tlsDirectory)/other-ca.crt")
            wrong.sentinelTLS = wrong.tls
            let refused = makeClient(wrong)
            try await running(refused) {
                await #expect {
                    _ = try await refused.verifiedMaster()
                } throws: { error in
                    guard let error = error as? SentinelClientError, error.code == .tlsFailed else { return false }
                    return error.attempts.count == 3 && error.attempts.allSatisfy { $0.reason == .tls(.certificateUntrusted) }
                }
            }
        }
    }
}
