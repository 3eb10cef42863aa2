#if canImport(Glibc)
    import Glibc
#endif

/// The HdrHistogram redis-cli 7.4's `--keystats` records key sizes in (lowest 1,
/// highest 1 TiB, 4 significant figures), reduced to what the report reads: the
/// percentile rows, the mean and the standard deviation, computed as `hdr_histogram.c`
/// computes them. Counts are kept per bucket index, only where nonzero.
struct KeySizeHistogram {
    static let subBucketHalfCountMagnitude = 14  // ceil(log2(2 * 10^4)) - 1
    static let subBucketHalfCount = 1 << subBucketHalfCountMagnitude
    static let subBucketCount = 2 * subBucketHalfCount
    static let subBucketMask = Int64(subBucketCount - 1)
    static let highestTrackable: Int64 = 1 << 40

    private(set) var counts: [Int: Int64] = [:]
    private(set) var totalCount: Int64 = 0

    /// `hdr_record_value`: false for a value out of range (redis-cli then warns).
    mutating func record(_ value: Int64) -> Bool {
        guard value >= 0, value <= Self.highestTrackable * 2 - 1 else { return false }
        counts[Self.countsIndex(for: value), default: 0] += 1
        totalCount += 1
        return true
    }

    struct Row: Equatable {
        var highestEquivalentValue: Int64
        var percentile: Double
        var cumulativeCount: Int64
    }

    /// `displayKeyStatsSizeDist`'s rows: the percentile iteration (one tick per half
    /// distance), a row only when the cumulative count moved, the last at 100%.
    var rows: [Row] {
        var rows: [Row] = []
        var lastShown: Int64 = 0
        var iterator = PercentileIterator(self)
        while let step = iterator.next() {
            guard step.cumulativeCount != lastShown else { continue }
            let percentile = step.cumulativeCount == totalCount ? 100 : step.percentile
            rows.append(Row(highestEquivalentValue: step.highestEquivalentValue, percentile: percentile, cumulativeCount: step.cumulativeCount))
            lastShown = step.cumulativeCount
        }
        return rows
    }

    /// `hdr_mean`: each bucket at its median equivalent value.
    var mean: Double {
        var total: Int64 = 0
        for (index, count) in counts { total &+= count &* Self.medianEquivalentValue(Self.valueAt(index)) }
        return Double(total) / Double(totalCount)
    }

    /// `hdr_stddev`, summed in index order as the C loop sums it.
    var standardDeviation: Double {
        let mean = self.mean
        var total = 0.0
        for index in counts.keys.sorted() {
            let deviation = Double(Self.medianEquivalentValue(Self.valueAt(index))) - mean
            total += deviation * deviation * Double(counts[index]!)
        }
        return sqrt(total / Double(totalCount))
    }

    private struct PercentileIterator {
        let histogram: KeySizeHistogram
        let indices: [Int]
        var position = -1
        var count: Int64 = 0
        var cumulativeCount: Int64 = 0
        var highestEquivalentValue: Int64 = 0
        var percentileToIterateTo = 0.0
        var seenLastValue = false

        init(_ histogram: KeySizeHistogram) {
            self.histogram = histogram
            indices = histogram.counts.keys.sorted()
        }

        struct Step {
            var highestEquivalentValue: Int64
            var percentile: Double
            var cumulativeCount: Int64
        }

        /// `percentile_iter_next`.
        mutating func next() -> Step? {
            guard cumulativeCount < histogram.totalCount else {
                if seenLastValue { return nil }
                seenLastValue = true
                return Step(highestEquivalentValue: highestEquivalentValue, percentile: 100, cumulativeCount: cumulativeCount)
            }
            if position == -1 && !moveNext() { return nil }
            repeat {
                let current = 100.0 * Double(cumulativeCount) / Double(histogram.totalCount)
                if count != 0 && percentileToIterateTo <= current {
                    let percentile = percentileToIterateTo
                    let exponent = Int64((log(100 / (100.0 - percentileToIterateTo)) / log(2)).rounded(.towardZero)) + 1
                    let halfDistance = Int64(pow(2, Double(exponent)))
                    percentileToIterateTo += 100.0 / Double(halfDistance)
                    return Step(highestEquivalentValue: highestEquivalentValue, percentile: percentile, cumulativeCount: cumulativeCount)
                }
            } while moveNext()
            return Step(highestEquivalentValue: highestEquivalentValue, percentile: percentileToIterateTo, cumulativeCount: cumulativeCount)
        }

        /// `basic_iter_next` over the nonzero buckets (the others change nothing it reads).
        private mutating func moveNext() -> Bool {
            guard cumulativeCount < histogram.totalCount, position + 1 < indices.count else { return false }
            position += 1
            let index = indices[position]
            count = histogram.counts[index]!
            cumulativeCount += count
            let value = KeySizeHistogram.valueAt(index)
            highestEquivalentValue = KeySizeHistogram.lowestEquivalentValue(value) + KeySizeHistogram.rangeSize(value) - 1
            return true
        }
    }

    // The bucket arithmetic of hdr_histogram.c, unit magnitude 0.

    static func bucketIndex(_ value: Int64) -> Int {
        (64 - (value | subBucketMask).leadingZeroBitCount) - (subBucketHalfCountMagnitude + 1)
    }

    static func countsIndex(for value: Int64) -> Int {
        let bucket = bucketIndex(value)
        let subBucket = Int(value >> bucket)
        return ((bucket + 1) << subBucketHalfCountMagnitude) + (subBucket - subBucketHalfCount)
    }

    static func valueAt(_ index: Int) -> Int64 {
        var bucket = (index >> subBucketHalfCountMagnitude) - 1
        var subBucket = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
        if bucket < 0 {
            subBucket -= subBucketHalfCount
            bucket = 0
        }
        return Int64(subBucket) << bucket
    }

    static func rangeSize(_ value: Int64) -> Int64 {
        let bucket = bucketIndex(value)
        let subBucket = Int(value >> bucket)
        return Int64(1) << (subBucket >= subBucketCount ? bucket + 1 : bucket)
    }

    static func lowestEquivalentValue(_ value: Int64) -> Int64 {
        let bucket = bucketIndex(value)
        return (value >> bucket) << bucket
    }

    static func medianEquivalentValue(_ value: Int64) -> Int64 {
        lowestEquivalentValue(value) + (rangeSize(value) >> 1)
    }
}
