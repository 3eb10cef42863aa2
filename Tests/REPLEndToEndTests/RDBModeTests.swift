import Foundation
import TestTopology
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `--rdb` and `--functions-rdb` through Sentinel: redis-cli's lines and file, from a
/// healthy replica; the master syncs nothing.
@Suite(.serialized, .timeLimit(.minutes(4 * testSlowdown)))
struct RDBModeTests {
    private func load(_ topology: Topology) async throws {
        let loaded = try Topology.run(
            "/bin/bash", ["-c", "seq 1 20000 | awk '{ print \"SET key:\" $1 \" value:\" $1 }' | redis-cli -p \(topology.masterPort)"])
        #expect(loaded.status == 0, "\(loaded)")
        let library = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 1 end)"
        #expect(try topology.cli(topology.masterPort, "FUNCTION", "LOAD", library) == "mylib\n")
        #expect(await topology.replicasCaughtUp(), "both replicas have every key and the library")
    }

    private func size(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
    }

    @Test(arguments: ["--rdb", "--functions-rdb"])
    func theSnapshotComesFromAReplicaWithRedisClisLines(_ flag: String) async throws {
        try await withTopology { topology in
            try await load(topology)
            try topology.cli(topology.masterPort, "CONFIG", "RESETSTAT")
            let directory = NSTemporaryDirectory() + "rdb-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let ours = try topology.runREPL([flag, "\(directory)/ours.rdb", topology.masterName])
            #expect(ours.status == 0 && ours.stdout.isEmpty, "\(ours)")
            // redis-cli on each replica; the one whose lines are ours is the one we read.
            var theirs: [String] = []
            for port in topology.replicaPorts {
                let run = try Topology.run("/usr/bin/redis-cli", ["-p", String(port), flag, "\(directory)/theirs.rdb"])
                theirs.append(run.stderr.replacingOccurrences(of: "theirs.rdb", with: "ours.rdb"))
                if theirs.last == ours.stderr { break }
            }
            #expect(theirs.contains(ours.stderr), "ours:\n\(ours.stderr)\nredis-cli:\n\(theirs)")
            #expect(ours.stderr.hasSuffix(" bytes\n") || ours.stderr.hasSuffix("success.\n"), "\(ours.stderr)")
            #expect(size("\(directory)/ours.rdb") == size("\(directory)/theirs.rdb"))
            let rdb = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/ours.rdb"))
            #expect(rdb.starts(with: Array("REDIS".utf8)) || rdb.starts(with: Array("VALKEY".utf8)), "an RDB file")
            #expect(rdb.range(of: Data("mylib".utf8)) != nil, "the function library is in it")
            #expect((rdb.range(of: Data("value:20000".utf8)) != nil) == (flag == "--rdb"), "the keys are in a full snapshot only")
            if Topology.server == "redis" && flag == "--rdb" {
                let check = try Topology.run("/usr/bin/redis-check-rdb", ["\(directory)/ours.rdb"])
                #expect(check.stdout.contains("[info] 20000 keys read"), "\(check.stdout)")
            }
            #expect(try commandCalls(topology, topology.masterPort, "sync") == 0 && commandCalls(topology, topology.masterPort, "psync") == 0,
                    "the master forked nothing for us")
            let toStdout = try topology.runREPL([flag, "-", "--master", topology.masterName])
            #expect(toStdout.status == 0 && toStdout.stderr.contains("\nTransfer finished with success"), "\(toStdout.stderr)")
            #expect(toStdout.stdout.hasPrefix("REDIS") || toStdout.stdout.hasPrefix("VALKEY"), "the snapshot on stdout")
            #expect(try commandCalls(topology, topology.masterPort, "sync") == 1, "--master reads the master")
        }
    }
}
