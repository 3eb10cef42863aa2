import Foundation
import TestTopology
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `--scan` through Sentinel: redis-cli's output, read from a healthy replica, going on
/// on another replica when the one scanned dies.
@Suite(.serialized, .timeLimit(.minutes(4 * testSlowdown)))
struct ScanModeTests {
    /// Loads `count` keys on the master, a sixth of each type (`user:N` the strings),
    /// and waits until both replicas have them.
    private func load(_ topology: Topology, keys count: Int) async throws {
        let awk = """
            { t = $1 % 6
              if (t == 0) print "SET user:" $1 " v" $1
              else if (t == 1) print "RPUSH list:" $1 " a b c"
              else if (t == 2) print "SADD set:" $1 " a b"
              else if (t == 3) print "HSET hash:" $1 " f v"
              else if (t == 4) print "ZADD zset:" $1 " 1 a"
              else print "XADD stream:" $1 " * f v" }
            """
        let loaded = try Topology.run(
            "/bin/bash", ["-c", "seq 1 \(count) | awk \(shellQuoted(awk)) | redis-cli -p \(topology.masterPort) --pipe"])
        #expect(loaded.status == 0 && loaded.stdout.contains("errors: 0, replies: \(count)"), "\(loaded)")
        #expect(await topology.replicasCaughtUp(), "both replicas have every key")
    }

    /// redis-cli with `flags` on each replica in turn, until one prints `expected` (the
    /// replica the scan read): every output it made.
    private func oracle(_ topology: Topology, _ flags: [String], matching expected: String) throws -> [String] {
        var outputs: [String] = []
        for port in topology.replicaPorts where !outputs.contains(expected) {
            outputs.append(try Topology.run("/usr/bin/redis-cli", ["-p", String(port)] + flags).stdout)
        }
        return outputs
    }

    @Test func theKeysAreRedisClisFromAReplicaAndTheMasterIsNotScanned() async throws {
        try await withTopology { topology in
            try await load(topology, keys: 200_000)
            try topology.cli(topology.masterPort, "CONFIG", "RESETSTAT")
            for (flags, cliFlags) in [(["--pattern", "user:*"], ["--pattern", "user:*"]), (["--no-raw", "--count", "500"], ["--no-raw"])] {
                let ours = try topology.runREPL(["--scan"] + flags + [topology.masterName])
                #expect(ours.status == 0 && ours.stderr.isEmpty, "\(ours.stderr)")
                let theirs = try oracle(topology, ["--scan"] + cliFlags, matching: ours.stdout)
                // COUNT changes the pages, not the order: the same cursor walk of the same table.
                #expect(theirs.contains(ours.stdout), "\(flags): \(ours.stdout.prefix(300)) vs \(theirs.map { $0.prefix(300) })")
            }
            let lines = try topology.runREPL(["--scan", "--pattern", "user:*", topology.masterName]).stdout.split(separator: "\n")
            #expect(lines.count == 200_000 / 6 && Set(lines).count == lines.count, "\(lines.count) keys")
            #expect(try commandCalls(topology, topology.masterPort, "scan") == 0, "no SCAN on the master")
            let onMaster = try topology.runREPL(["--scan", "--master", "--pattern", "user:1?", topology.masterName])
            #expect(Set(onMaster.stdout.split(separator: "\n").map(String.init)) == ["user:12", "user:18"], "\(onMaster)")
            #expect(try commandCalls(topology, topology.masterPort, "scan") > 0, "--master scans the master")
        }
    }

    /// redis-cli's reports, byte for byte, against the replica the scan read (no line of
    /// them carries timing: the progress figures follow the pages, which are the same).
    @Test func theBigKeysAndMemKeysReportsAreRedisClis() async throws {
        try await withTopology { topology in
            try await load(topology, keys: 200_000)
            try topology.cli(topology.masterPort, "CONFIG", "RESETSTAT")
            for flags in [["--bigkeys"], ["--memkeys"], ["--memkeys-samples", "2", "--pattern", "*:1*"]] {
                let ours = try topology.runREPL(flags + [topology.masterName])
                #expect(ours.status == 0 && ours.stderr.isEmpty, "\(flags): \(ours.stderr)")
                let theirs = try oracle(topology, flags, matching: ours.stdout)
                #expect(theirs.contains(ours.stdout), "\(flags):\n\(ours.stdout)\nredis-cli:\n\(theirs[0])")
                if flags.count == 1 { #expect(ours.stdout.contains("\nSampled 200000 keys in the keyspace!\n"), "\(ours.stdout)") }
            }
            for command in ["scan", "type", "strlen", "memory|usage", "dbsize"] {
                #expect(try commandCalls(topology, topology.masterPort, command) == 0, "no \(command) on the master")
            }
        }
    }

    @Test func withNoHealthyReplicaItAsksForMasterAndDoesNotFallBack() async throws {
        try await withTopology { topology in
            for port in topology.replicaPorts { kill(try #require(topology.pid(ofPort: port)), SIGKILL) }
            let flagged = await eventually(within: 20) {
                let listed = (try? topology.cli(topology.sentinelPorts[0], "SENTINEL", "REPLICAS", topology.masterName)) ?? ""
                return listed.components(separatedBy: "s_down").count == 3
            }
            #expect(flagged, "the sentinels flag both replicas down")
            try topology.cli(topology.masterPort, "CONFIG", "RESETSTAT")
            let refused = try topology.runREPL(["--scan", topology.masterName])
            #expect(refused.status == 1 && refused.stderr.contains("no healthy replica") && refused.stderr.contains("--master"), "\(refused)")
            #expect(refused.stdout.isEmpty)
            #expect(try commandCalls(topology, topology.masterPort, "scan") == 0)
        }
    }

    /// The replica our scan reads, once it has served `pages` SCAN pages.
    private func replicaScanned(_ topology: Topology, pagesAtLeast pages: Int, _ scan: Task<Topology.RunResult, Error>) async throws -> Int {
        var scanned: Int?
        let found = await eventually(within: 20) {
            scanned = topology.replicaPorts.first { port in
                ((try? topology.cli(port, "CLIENT", "LIST")) ?? "").contains("name=sentinel-repl")
                    && ((try? commandCalls(topology, port, "scan")) ?? 0) > pages
            }
            return scanned != nil
        }
        let unseen = found ? "" : "\(try await scan.value)".prefix(1000)
        #expect(found, "the scan runs on a replica: \(unseen)")
        return try #require(scanned)
    }

    /// A replica stopped (SIGSTOP) mid-scan closes nothing and answers nothing: after
    /// KeyScan.replyTimeout (10 s) the scan leaves it and starts over on the other.
    @Test func aReplicaStoppedMidScanIsLeftAfterTheReplyTimeout() async throws {
        try await withTopology { topology in
            let total = 200_000
            try await load(topology, keys: total)
            let scan = topology.runREPL(fedBy: "true", flags: ["--scan", "--count", "100", "-i", "0.002"])
            let scannedPort = try await replicaScanned(topology, pagesAtLeast: 100, scan)
            let stopped = try #require(topology.pid(ofPort: scannedPort))
            kill(stopped, SIGSTOP)
            defer { kill(stopped, SIGCONT) }
            let result = try await scan.value
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("the scan moved from \(topology.address(of: scannedPort))") && result.stderr.contains("10000 ms"), "\(result.stderr)")
            #expect(Set(result.stdout.split(separator: "\n")).count == total, "every key at least once")
        }
    }

    @Test func aReplicaKilledMidScanMakesTheScanStartOverOnTheOther() async throws {
        try await withTopology { topology in
            let total = 1_000_000
            try await load(topology, keys: total)
            let scan = topology.runREPL(fedBy: "true", flags: ["--scan", "--count", "100", "-i", "0.0005"])
            let scannedPort = try await replicaScanned(topology, pagesAtLeast: 200, scan)
            kill(try #require(topology.pid(ofPort: scannedPort)), SIGKILL)
            let result = try await scan.value
            #expect(result.status == 0, "\(result.stderr)")
            let other = try #require(topology.replicaPorts.first { $0 != scannedPort })
            #expect(result.stderr.contains("the scan moved from \(topology.address(of: scannedPort)) to \(topology.address(of: other))"), "\(result.stderr)")
            let keys = Set(result.stdout.split(separator: "\n"))
            #expect(keys.count == total, "every key at least once: \(keys.count) of \(total)")
        }
    }

    /// `--hotkeys` reads the master's LFU counters: refused with the reason when the
    /// policy keeps none, else redis-cli's report byte for byte (decay off, so that the
    /// counters hold still between the two runs).
    @Test func theHotKeysReportIsRedisClisFromTheMaster() async throws {
        try await withTopology { topology in
            _ = try topology.cli(topology.masterPort, "SET", "user:0", "v")
            let refused = try topology.runREPL(["--hotkeys", topology.masterName])
            #expect(refused.status == 1 && refused.stdout.isEmpty && refused.stderr.contains("its policy is 'noeviction'"), "\(refused)")
            #expect(try commandCalls(topology, topology.masterPort, "scan") == 0, "nothing scanned when it cannot work")
            // Before the keys exist: a key made under another policy holds an LRU clock, not a counter.
            _ = try topology.cli(topology.masterPort, "FLUSHALL")
            _ = try topology.cli(topology.masterPort, "CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
            _ = try topology.cli(topology.masterPort, "CONFIG", "SET", "lfu-decay-time", "0")
            try await load(topology, keys: 20_000)
            // Reads that touch the counter (TYPE and OBJECT do not).
            for (command, key, reads) in [("GET", "user:6", 200), ("GET", "user:12", 60), ("LLEN", "list:7", 30)] {
                let script = "for i in $(seq \(reads)); do echo \(command) \(key); done | redis-cli -p \(topology.masterPort) >/dev/null"
                _ = try Topology.run("/bin/bash", ["-c", script])
            }
            let ours = try topology.runREPL(["--hotkeys", topology.masterName])
            let theirs = try Topology.run("/usr/bin/redis-cli", ["-p", String(topology.masterPort), "--hotkeys"])
            #expect(ours.status == 0 && ours.stderr.isEmpty && ours.stdout == theirs.stdout, "ours:\n\(ours.stdout)\nredis-cli:\n\(theirs.stdout)")
            #expect(ours.stdout.contains("Sampled 20000 keys in the keyspace!\nhot key found with counter: "), "\(ours.stdout)")
            #expect(ours.stdout.contains("keyname: \"user:6\"\n"), "\(ours.stdout)")
        }
    }

    /// `--keystats` counts the keys and lengths `load` made: a sixth of each type (1 and 2
    /// mod 6 one more), lists of 3 items, sets of 2 members, one field, member, entry
    /// each, strings `v<N>`. With env REDIS_CLI_74 naming a redis-cli 7.4 (which has
    /// --keystats), its report on the same replica must be ours byte for byte.
    @Test func theKeyStatsReportCountsTheKeyspaceLoaded() async throws {
        try await withTopology { topology in
            try await load(topology, keys: 200_000)
            try topology.cli(topology.masterPort, "CONFIG", "RESETSTAT")
            try checkKeyStats(topology)
            for command in ["scan", "type", "llen", "memory|usage", "dbsize"] {
                #expect(try commandCalls(topology, topology.masterPort, command) == 0, "no \(command) on the master")
            }
        }
    }

    private func checkKeyStats(_ topology: Topology) throws {
        let ours = try topology.runREPL(["--keystats", topology.masterName])
        #expect(ours.status == 0 && ours.stderr.isEmpty, "\(ours.stderr)")
        #expect(ours.stdout.contains("\n100.00% keys scanned\nKeys sampled: 200000\n"), "\(ours.stdout)")
        let stringBytes = stride(from: 6, through: 200_000, by: 6).reduce(0) { $0 + 1 + String($1).count }
        func row(_ type: String, _ count: Int, _ total: String, _ average: String) -> (String, String) {
            (type.padding(toLength: 10, withPad: " ", startingAt: 0) + " " + String(repeating: " ", count: 11 - String(count).count) + "\(count) ",
             String(repeating: " ", count: 18 - total.count) + total + " " + String(repeating: " ", count: 11 - average.count) + average)
        }
        let rows = [
            row("list", 33334, "100002 items", "3.00"), row("set", 33334, "66668 members", "2.00"),
            row("hash", 33333, "33333 fields", "1.00"), row("zset", 33333, "33333 members", "1.00"),
            row("stream", 33333, "33333 entries", "1.00"),
            row("string", 33333, String(format: "%.2fK", Double(stringBytes) / 1024), "\(Int((Double(stringBytes) / 33333).rounded()))B"),
        ]
        let lines = ours.stdout.split(separator: "\n").map(String.init)
        for (start, end) in rows {
            #expect(lines.contains { $0.hasPrefix(start) && $0.hasSuffix(end) }, "a row '\(start)...\(end)' in:\n\(ours.stdout)")
        }
        if let cli74 = ProcessInfo.processInfo.environment["REDIS_CLI_74"] {
            var theirs: [String] = []
            for port in topology.replicaPorts where !theirs.contains(ours.stdout) {
                theirs.append(try Topology.run(cli74, ["-p", String(port), "--keystats"]).stdout)
            }
            #expect(theirs.contains(ours.stdout), "ours:\n\(ours.stdout)\nredis-cli 7.4:\n\(theirs)")
        }
    }
}
