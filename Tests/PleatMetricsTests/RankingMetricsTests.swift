import XCTest
import PleatCore
@testable import PleatMetrics

final class RankingMetricsTests: XCTestCase {
    func testMetricsFromRanks() {
        var m = RankingMetrics(cutoffs: [1, 5, 10])
        for rank in [0, 3, 12] { m.add(rank: rank) }
        XCTAssertEqual(m.count, 3)
        XCTAssertEqual(m.hitRate(at: 1), 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.hitRate(at: 5), 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.ndcg(at: 10), (1 + 1 / log2(5.0)) / 3, accuracy: 1e-12)
        XCTAssertEqual(m.mrr, (1 + 0.25 + 1.0 / 13) / 3, accuracy: 1e-12)
        var other = RankingMetrics(cutoffs: [1, 5, 10])
        other.add(rank: 0)
        m.merge(other)
        XCTAssertEqual(m.hitRate(at: 1), 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.summary.ndcg(at: 5)!, m.ndcg(at: 5))
    }

    func testFullRankFiltersSeenItemsAndPaddingAndIsPessimisticOnTies() {
        let scores: [Float] = [9, 0.1, 0.5, 0.9, 0.5, 0.3]  // index 0 is padding
        scores.withUnsafeBufferPointer { s in
            XCTAssertEqual(RankingMetrics.fullRank(scores: s, target: 2, excluded: []), 2, "0.9 ahead, the 0.5 tie counts too")
            XCTAssertEqual(RankingMetrics.fullRank(scores: s, target: 2, excluded: [3]), 1, "seen item 3 filtered")
            XCTAssertEqual(RankingMetrics.fullRank(scores: s, target: 3, excluded: [3]), 0, "the target is never filtered")
        }
        let flat = [Float](repeating: 1, count: 6)
        flat.withUnsafeBufferPointer { XCTAssertEqual(RankingMetrics.fullRank(scores: $0, target: 1), 4, "constant scores rank last") }
    }

    /// Under `exclude` a seen target is a miss: in the denominator, credited nothing; seen items are
    /// taken out of the ranking ahead of a new target. Under `include` everything is ranked.
    func testSeenItemsRuleRanksAsTheServedListWould() {
        let scores: [Float] = [9, 0.1, 0.5, 0.9, 0.5, 0.3]  // index 0 is padding
        let history: [Int32] = [3, 5]
        scores.withUnsafeBufferPointer { s in
            XCTAssertEqual(SeenItems.exclude.rank(scores: s, target: 3, history: history), RankingMetrics.miss, "seen: never served")
            XCTAssertEqual(SeenItems.include.rank(scores: s, target: 3, history: history), 0, "seen and best: first")
            XCTAssertEqual(SeenItems.exclude.rank(scores: s, target: 2, history: history), 1, "item 3 is not served, the 0.5 tie is")
            XCTAssertEqual(SeenItems.include.rank(scores: s, target: 2, history: history), 2)
        }
        XCTAssertEqual(SeenItems.exclude.excluded(from: history), history)
        XCTAssertEqual(SeenItems.include.excluded(from: history), [])
        XCTAssertFalse(SeenItems.exclude.allows(5, after: history))
        XCTAssertTrue(SeenItems.include.allows(5, after: history))

        var m = RankingMetrics(cutoffs: [1, 10])
        m.add(rank: 0)
        m.add(rank: RankingMetrics.miss)
        XCTAssertEqual(m.count, 2)
        XCTAssertEqual(m.hitRate(at: 10), 0.5)
        XCTAssertEqual(m.ndcg(at: 10), 0.5)
        XCTAssertEqual(m.mrr, 0.5)

        let parts = RepeatBreakdown(ranks: [0, RankingMetrics.miss, 3, 20], isRepeat: [false, true, true, false], cutoffs: [10])
        XCTAssertEqual(parts.repeats.count, 2)
        XCTAssertEqual(parts.new.count, 2)
        XCTAssertEqual(parts.repeats.hitRate(at: 10), 0.5)
        XCTAssertEqual(parts.new.hitRate(at: 10), 0.5)
        XCTAssertEqual(parts.repeatShare, 0.5)
        let json = String(decoding: try! JSONEncoder.snakeCase().encode(parts.summary), as: UTF8.self)
        XCTAssertTrue(json.contains("\"repeat\":{\"metrics\"") || json.contains("\"repeat\":{\"users\""), json)
        XCTAssertTrue(json.contains("\"repeat_share\":0.5"), json)
    }

    func testSamplersNeverReturnTheTargetOrSeenItemsAndFollowPopularity() {
        var counts = [Int](repeating: 1, count: 101)
        counts[0] = 0
        counts[7] = 10_000
        var rng = RandomSource(seed: 3)
        for distribution in [NegativeSampler.Distribution.uniform, .popularity] {
            let sampler = NegativeSampler(counts: counts, distribution: distribution)
            let negatives = sampler.sample(50, target: 5, seen: [1, 2, 3], rng: &rng)
            XCTAssertEqual(Set(negatives).count, 50)
            XCTAssertTrue(negatives.allSatisfy { ![0, 1, 2, 3, 5].contains($0) })
            if distribution == .popularity { XCTAssertTrue(negatives.contains(7), "the popular item is drawn") }
        }
        // Fewer items to draw than asked: all of them, and by popularity only those with training events
        // (items never trained on have no weight; asking for more used to loop for ever).
        var sparse = [Int](repeating: 0, count: 21)
        for i in [2, 4, 6, 8, 10] { sparse[i] = i }
        let byPopularity = NegativeSampler(counts: sparse, distribution: .popularity).sample(100, target: 4, seen: [6, 7], rng: &rng)
        XCTAssertEqual(Set(byPopularity), [2, 8, 10])
        XCTAssertEqual(byPopularity.count, 3)
        let uniformly = NegativeSampler(counts: sparse, distribution: .uniform).sample(100, target: 4, seen: [6, 7], rng: &rng)
        XCTAssertEqual(Set(uniformly), Set(Int32(1)...20).subtracting([4, 6, 7]))
        XCTAssertEqual(uniformly.count, 17)
        let scores = (0..<101).map { Float($0) }
        scores.withUnsafeBufferPointer { s in
            XCTAssertEqual(RankingMetrics.sampledRank(scores: s, target: 50, negatives: [10, 60, 70, 20]), 2)
        }
    }
}
