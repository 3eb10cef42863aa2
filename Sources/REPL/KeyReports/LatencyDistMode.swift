import SentinelClient

/// `--latency-dist`: redis-cli's spectrum of PING latencies, one coloured line per `-i`
/// seconds (1 by default) for xterm's 256 colours, the legend every 20 lines; it follows
/// the master as `--latency` does, a mark line at the switch.
enum LatencyDistMode {
    static func run(client: SentinelClient, interval: Double, mono: Bool, output: TerminalOutput) async -> Int32 {
        let period = interval > 0 ? Int(interval * 1000) : 1000
        let palette = mono ? LatencySpectrum.monoPalette : LatencySpectrum.colorPalette
        return await untilCtrlC {
            var spectrum = LatencySpectrum()
            var follower = MasterFollower()
            var outputs = 0
            var start = LatencyMode.microseconds()
            while !Task.isCancelled {
                guard let ping = await LatencyMode.ping(client, &follower, notice: { output.write($0) }) else {
                    await sleepCancellably(Double(period) / 1000)
                    continue
                }
                if let mark = ping.mark {
                    output.write(mark)
                    spectrum = LatencySpectrum()
                    start = LatencyMode.microseconds()
                }
                spectrum.add(ping.end - ping.start)
                if (LatencyMode.microseconds() - start) / 1000 > period {
                    if outputs % 20 == 0 { output.write(LatencySpectrum.legend(palette)) }
                    outputs += 1
                    output.write(spectrum.line(palette))
                    spectrum = LatencySpectrum()
                    start = LatencyMode.microseconds()
                }
                await sleepCancellably(0.01)
            }
            return 0
        }
    }
}

/// The buckets of `latencyDistMode` and how redis-cli draws them.
struct LatencySpectrum {
    static let colorPalette = [0, 233, 234, 235, 237, 239, 241, 243, 245, 247, 144, 143, 142, 184, 226, 214, 208, 202, 196]
    static let monoPalette = [0, 233, 234, 235, 237, 239, 241, 243, 245, 247, 249, 251, 253]

    /// Each bucket's upper bound in microseconds (0: everything above the last) and its character.
    static let buckets: [(max: Int, character: Character)] = [
        (10, "."), (125, "-"), (250, "*"), (500, "#"), (1000, "1"), (2000, "2"), (3000, "3"), (4000, "4"), (5000, "5"),
        (6000, "6"), (7000, "7"), (8000, "8"), (9000, "9"), (10000, "A"), (20000, "B"), (30000, "C"), (40000, "D"),
        (50000, "E"), (100_000, "F"), (200_000, "G"), (300_000, "H"), (400_000, "I"), (500_000, "J"), (1_000_000, "K"),
        (2_000_000, "L"), (4_000_000, "M"), (8_000_000, "N"), (16_000_000, "O"), (30_000_000, "P"), (60_000_000, "Q"),
        (0, "?"),
    ]

    private(set) var counts = [Int](repeating: 0, count: buckets.count)
    private(set) var total = 0

    mutating func add(_ microseconds: Int) {
        let bucket = Self.buckets.firstIndex { $0.max == 0 || microseconds <= $0.max }!
        counts[bucket] += 1
        total += 1
    }

    /// `showLatencyDistSamples`: each bucket's character on a background as bright as its share.
    func line(_ palette: [Int]) -> String {
        var text = "\u{1b}[38;5;0m"
        for (index, bucket) in Self.buckets.enumerated() {
            let shade = Int((Double(counts[index]) / Double(total) * Double(palette.count - 1)).rounded(.up))
            text += "\u{1b}[48;5;\(palette[shade])m\(bucket.character)"
        }
        return text + "\u{1b}[0m\n"
    }

    /// `showLatencyDistLegend`.
    static func legend(_ palette: [Int]) -> String {
        let rule = "---------------------------------------------\n"
        return rule
            + ". - * #          .01 .125 .25 .5 milliseconds\n"
            + "1,2,3,...,9      from 1 to 9     milliseconds\n"
            + "A,B,C,D,E        10,20,30,40,50  milliseconds\n"
            + "F,G,H,I,J        .1,.2,.3,.4,.5       seconds\n"
            + "K,L,M,N,O,P,Q,?  1,2,4,8,16,30,60,>60 seconds\n"
            + "From 0 to 100%: " + palette.map { "\u{1b}[48;5;\($0)m " }.joined() + "\u{1b}[0m\n"
            + rule
    }
}
