import Foundation
import RESP
import TestTopology
import Testing

@testable import SentinelClient

/// The read-from policy: master, replica, replica-preferred, on a real topology.
@Suite(.serialized, .timeLimit(.minutes(3 * testSlowdown)))
struct ReadFromTests {
    @Test func readsGoWhereThePolicySays() async throws {
        try await withTopology { topology in
            let client = makeClient(topology.configuration())
            try await running(client) {
                _ = try await client.verifiedMaster()
                #expect(Set(try await client.healthyReplicas().map(\.port)) == Set(topology.replicaPorts))
                _ = try await client.execute(RESPCommand("SET", "k", "v"))
                #expect(await eventually(within: 10) {
                    topology.replicaPorts.allSatisfy { (try? topology.cli($0, "GET", "k")) == "v\n" }
                })
                let role = try await client.execute(RESPCommand("ROLE"), readFrom: .replica)
                #expect(role.elements?.first?.string == "slave")
                #expect(try await client.execute(RESPCommand("GET", "k"), readFrom: .replica).string == "v")
                let write = try await client.execute(RESPCommand("SET", "k", "w"), readFrom: .replica)
                #expect(write.errorCode == "READONLY", "a replica refuses writes: \(write)")
                let master = try await client.execute(RESPCommand("ROLE"), readFrom: .master)
                #expect(master.elements?.first?.string == "master")

                for port in topology.replicaPorts { kill(try #require(topology.pid(ofPort: port)), SIGKILL) }
                await #expect {
                    _ = try await client.execute(RESPCommand("GET", "k"), readFrom: .replica)
                } throws: { error in
                    (error as? SentinelClientError)?.code == .noHealthyReplica
                }
                let preferred = try await client.execute(RESPCommand("ROLE"), readFrom: .replicaPreferred)
                #expect(preferred.elements?.first?.string == "master", "no replica: the master")
            }
        }
    }
}
