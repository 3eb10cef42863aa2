import Testing

@testable import REPL

/// `--bigkeys`' report against redis-cli 7.0.15's own output on the same keys (taken
/// from `redis-cli --bigkeys` on a fresh server): the types' order is its dict's.
@Suite struct BigKeysReportTests {
    @Test func anEmptyKeyspaceListsTheTypesInRedisClisOrderMidRehash() {
        let report = BigKeysReport(memkeys: false)
        #expect(
            report.summary(cancelledAt: nil) == """

                -------- summary -------

                Sampled 0 keys in the keyspace!
                Total key length in bytes is 0 (avg len 0.00)


                0 hashs with 0 fields (00.00% of keys, avg size 0.00)
                0 lists with 0 items (00.00% of keys, avg size 0.00)
                0 strings with 0 bytes (00.00% of keys, avg size 0.00)
                0 streams with 0 entries (00.00% of keys, avg size 0.00)
                0 sets with 0 members (00.00% of keys, avg size 0.00)
                0 zsets with 0 members (00.00% of keys, avg size 0.00)

                """)
    }

    @Test func oneKeyOfEachTypeGivesRedisClisLinesAndSummary() {
        var report = BigKeysReport(memkeys: false)
        let keys = ["l1", "s1", "z1", "x1", "k 2", "k1", "h1"].map { Array($0.utf8) }
        let types = report.track(["list", "set", "zset", "stream", "string", "string", "hash"])
        #expect(report.sizeCommand(for: keys[0], type: types[0], samples: 0)?.arguments == [Array("LLEN".utf8), keys[0]])
        let lines = report.record(keys: keys, types: types, sizes: [3, 1, 1, 1, 2, 5, 2], percent: 0)
        #expect(
            lines == """
                [00.00%] Biggest list   found so far '"l1"' with 3 items
                [00.00%] Biggest set    found so far '"s1"' with 1 members
                [00.00%] Biggest zset   found so far '"z1"' with 1 members
                [00.00%] Biggest stream found so far '"x1"' with 1 entries
                [00.00%] Biggest string found so far '"k 2"' with 2 bytes
                [00.00%] Biggest string found so far '"k1"' with 5 bytes
                [00.00%] Biggest hash   found so far '"h1"' with 2 fields

                """)
        #expect(
            report.summary(cancelledAt: nil) == """

                -------- summary -------

                Sampled 7 keys in the keyspace!
                Total key length in bytes is 15 (avg len 2.14)

                Biggest   list found '"l1"' has 3 items
                Biggest   hash found '"h1"' has 2 fields
                Biggest string found '"k1"' has 5 bytes
                Biggest stream found '"x1"' has 1 entries
                Biggest    set found '"s1"' has 1 members
                Biggest   zset found '"z1"' has 1 members

                1 lists with 3 items (14.29% of keys, avg size 3.00)
                1 hashs with 2 fields (14.29% of keys, avg size 2.00)
                2 strings with 7 bytes (28.57% of keys, avg size 3.50)
                1 streams with 1 entries (14.29% of keys, avg size 1.00)
                1 sets with 1 members (14.29% of keys, avg size 1.00)
                1 zsets with 1 members (14.29% of keys, avg size 1.00)

                """)
        #expect(report.summary(cancelledAt: 42.5).contains("\n\n[42.50%] Sampled 7 keys"))
    }

    @Test func aModuleTypeIsCountedButNotSizedAndAKeyGoneIsSkipped() {
        var report = BigKeysReport(memkeys: false)
        let types = report.track(["ReJSON-RL", "none"])
        #expect(types == ["ReJSON-RL", nil])
        #expect(report.sizeCommand(for: Array("j".utf8), type: types[0], samples: 0) == nil)
        _ = report.record(keys: [Array("j".utf8), Array("gone".utf8)], types: types, sizes: [0, 0], percent: 0)
        #expect(report.summary(cancelledAt: nil).contains("1 ReJSON-RLs with 0 ? (100.00% of keys, avg size 0.00)\n"))
        var memory = BigKeysReport(memkeys: true)
        let typed = memory.track(["ReJSON-RL"])
        #expect(memory.sizeCommand(for: Array("j".utf8), type: typed[0], samples: 5)?.arguments.map { String(decoding: $0, as: UTF8.self) } == ["MEMORY", "USAGE", "j", "SAMPLES", "5"])
    }
}

/// `--hotkeys`' eviction pool and `--latency-dist`'s spectrum, as redis-cli.c computes them.
@Suite struct HotKeysAndSpectrumTests {
    @Test func thePoolKeepsTheSixteenHottestColdestFirst() {
        var report = HotKeysReport()
        let keys = (0..<20).map { Array("k\($0)".utf8) }
        let lines = report.record(keys: keys, frequencies: (0..<20).map { UInt64($0 % 18) }, percent: 0)
        // 0 never enters; 1...16 fill the pool; 17 pushes 1 out; k18 (0) and k19 (1) stay out.
        #expect(lines.split(separator: "\n").count == 17)
        let summary = report.summary(cancelledAt: nil)
        #expect(summary.hasPrefix("\n-------- summary -------\n\nSampled 20 keys in the keyspace!\nhot key found with counter: 17\tkeyname: \"k17\"\n"))
        #expect(summary.hasSuffix("hot key found with counter: 2\tkeyname: \"k2\"\n") && !summary.contains("\"k1\""), "\(summary)")
    }

    @Test func eachBucketIsShadedByItsShareRoundedUp() {
        var spectrum = LatencySpectrum()
        for microseconds in [5, 100, 100, 100_000_000] { spectrum.add(microseconds) }
        let line = spectrum.line(LatencySpectrum.monoPalette)
        // 1 of 4 in '.': ceil(0.25 * 12) = 3 -> 235; 2 of 4 in '-': 6 -> 241; '?' holds the minute and more.
        #expect(line.hasPrefix("\u{1b}[38;5;0m\u{1b}[48;5;235m.\u{1b}[48;5;241m-\u{1b}[48;5;0m*"))
        #expect(line.hasSuffix("\u{1b}[48;5;235m?\u{1b}[0m\n"))
    }
}

/// `--keystats`' size percentiles, against hdr_histogram.c of Redis 7.4 itself: the
/// expected lines are what that C code printed for these values (the program, as
/// redis-cli's displayKeyStatsSizeDist prints, compiled against deps/hdr_histogram).
@Suite struct KeySizeHistogramTests {
    @Test func thePercentileRowsMeanAndDeviationAreHdrHistogramsOwn() {
        var histogram = KeySizeHistogram()
        var recorded = 0
        for i in Int64(1)...5000 where histogram.record((i * i * 7919) % 3_000_000 + 1) { recorded += 1 }
        if histogram.record(5 * 1024 * 1024 * 1024) { recorded += 1 }
        #expect(recorded == 5001)
        let expected = [
            "      1B    0.0000%           1",
            "   1.44M   50.0000%        2501",
            "   2.14M   75.0000%        3751",
            "   2.52M   87.5000%        4376",
            "   2.69M   93.7500%        4689",
            "   2.78M   96.8750%        4845",
            "   2.82M   98.4375%        4923",
            "   2.84M   99.2188%        4962",
            "   2.85M   99.6094%        4982",
            "   2.85M   99.8047%        4992",
            "   2.86M   99.9023%        4997",
            "   2.86M   99.9512%        4999",
            "   2.86M   99.9756%        5000",
            "   5.00G  100.0000%        5001",
            "Note: 0.01% size precision, Mean: 2.46M, StdDeviation: 72.38M",
        ]
        #expect(Array(KeyStatsReport.sizeDistribution(histogram).dropFirst(2)) == expected)
    }

    @Test func bytesToHumanAsRedisCli74() {
        #expect(KeyStatsReport.human(1023) == "1023B" && KeyStatsReport.human(1024) == "1.00K")
        #expect(KeyStatsReport.human(1_572_864) == "1.50M" && KeyStatsReport.human(3 << 30) == "3.00G")
    }
}
