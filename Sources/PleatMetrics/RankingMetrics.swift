import Foundation

/// Ranking quality of next-item predictions: HR@K, NDCG@K and MRR, averaged over evaluated users.
///
/// A prediction is summarised by the 0-based rank of the true next item. Ranks are pessimistic: every
/// other candidate scored at least as high as the target counts as ahead of it, so a model that scores
/// everything alike gets the worst rank, not the best. A target that no list could hold (a seen item
/// under `SeenItems.exclude`) has rank `miss`: counted, never credited.
public struct RankingMetrics: Sendable, Codable, Equatable {
    public let cutoffs: [Int]
    public private(set) var count = 0
    private var hits: [Double]
    private var gains: [Double]
    private var reciprocalRanks = 0.0

    public static let defaultCutoffs = [1, 5, 10, 20, 50]
    /// The rank of a target that the served list can never contain (rank ∞): below every cutoff's
    /// reach and worth nothing to MRR.
    public static let miss = Int.max

    public init(cutoffs: [Int] = RankingMetrics.defaultCutoffs) {
        self.cutoffs = cutoffs
        hits = [Double](repeating: 0, count: cutoffs.count)
        gains = [Double](repeating: 0, count: cutoffs.count)
    }

    /// Records one prediction whose target came at `rank` (0 = first).
    public mutating func add(rank: Int) {
        assert(rank >= 0, "ranks are 0-based")
        count += 1
        guard rank != Self.miss else { return }
        reciprocalRanks += 1 / Double(rank + 1)
        for (i, k) in cutoffs.enumerated() where rank < k {
            hits[i] += 1
            gains[i] += 1 / log2(Double(rank + 2))
        }
    }

    public mutating func merge(_ other: RankingMetrics) {
        precondition(other.cutoffs == cutoffs)
        count += other.count
        reciprocalRanks += other.reciprocalRanks
        for i in cutoffs.indices { hits[i] += other.hits[i]; gains[i] += other.gains[i] }
    }

    /// The sums behind the means (count, reciprocal ranks, hits and gains per cutoff), to be added up
    /// across processes; `init(cutoffs:totals:)` reads them back.
    public var totals: [Double] { [Double(count), reciprocalRanks] + hits + gains }

    public init(cutoffs: [Int], totals: [Double]) {
        precondition(totals.count == 2 + 2 * cutoffs.count)
        self.cutoffs = cutoffs
        count = Int(totals[0])
        reciprocalRanks = totals[1]
        hits = Array(totals[2..<(2 + cutoffs.count)])
        gains = Array(totals[(2 + cutoffs.count)...])
    }

    public func hitRate(at k: Int) -> Double { mean(hits, k) }
    public func ndcg(at k: Int) -> Double { mean(gains, k) }
    public var mrr: Double { count > 0 ? reciprocalRanks / Double(count) : 0 }

    private func mean(_ values: [Double], _ k: Int) -> Double {
        guard let i = cutoffs.firstIndex(of: k) else { preconditionFailure("no cutoff \(k) in \(cutoffs)") }
        return count > 0 ? values[i] / Double(count) : 0
    }

    /// HR@K and NDCG@K at every cutoff, and MRR: what registries, reports and JSON lines keep.
    public var summary: MetricSummary {
        MetricSummary(hitRate: Dictionary(uniqueKeysWithValues: cutoffs.map { ($0, hitRate(at: $0)) }),
                      ndcg: Dictionary(uniqueKeysWithValues: cutoffs.map { ($0, ndcg(at: $0)) }), mrr: mrr)
    }

    // MARK: Ranks

    /// Full ranking: how many candidates other than the target score at least as high, skipping the
    /// ids in `excluded` and id 0 (padding). Which seen items are excluded, and what a seen target
    /// counts, is `SeenItems.rank`'s to decide.
    public static func fullRank(scores: UnsafeBufferPointer<Float>, target: Int, excluded: Set<Int32> = []) -> Int {
        let t = scores[target]
        var rank = 0
        for j in 1..<scores.count where j != target && scores[j] >= t { rank += 1 }
        // Subtract the excluded items that were counted.
        for e in excluded where Int(e) != target && Int(e) > 0 && Int(e) < scores.count && scores[Int(e)] >= t { rank -= 1 }
        return rank
    }

    /// Sampled ranking: how many of the sampled negatives score at least as high as the target.
    public static func sampledRank(scores: UnsafeBufferPointer<Float>, target: Int, negatives: [Int32]) -> Int {
        let t = scores[target]
        return negatives.reduce(0) { $0 + (scores[Int($1)] >= t ? 1 : 0) }
    }
}
