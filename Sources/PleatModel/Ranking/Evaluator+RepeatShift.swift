import Foundation
import PleatCore
import PleatHistories
import PleatMetrics
import PleatTensor

extension Evaluator {
    /// Validation of a model with a repeat head under `seen = include` in one pass: the metrics at its
    /// current shift δ, and NDCG@10 (summed over the examples) for each of `RepeatShift.steps` added to δ.
    ///
    /// A step moves every own item's score by τ·step and nothing else, so each row's ranks under every
    /// step follow from its own items' scores and the ten best scores of the rest: a target among the own
    /// items ranks below the own items above it and the others above its moved score; any other target
    /// below the others above it and the moved own items above it. Ranks from 10 on are misses, as NDCG@10
    /// counts them; ties count against the target, as `RankingMetrics.fullRank` does.
    public static func evaluateShifts(_ ranker: any ItemRanker, _ examples: [SequenceSplit.Example], shift: RepeatShift)
        -> (metrics: RankingMetrics, ndcgSums: [Double]) {
        let steps = RepeatShift.steps, cutoff = 10, scale = shift.scale, ownItems = shift.ownItemsOfQueries
        let gains = Gains(count: examples.count * steps.count)
        let ranks = rank(ranker, examples, seen: .include, listLength: 0) { row, example, index, query in
            let target = example.target
            let rank = SeenItems.include.rank(scores: UnsafeBufferPointer(row), target: target, history: example.history)
            let own = ownItems[query: query]
            let ownScores = own.map { row[Int($0)] }
            // The ten best scores among the other items (own ones and padding out of the row meanwhile).
            let padding = row[0]
            row[0] = -.infinity
            for item in own { row[Int(item)] = -.infinity }
            var best = [Float](repeating: 0, count: cutoff), bestItems = [Int32](repeating: 0, count: cutoff)
            let found = TopK.select(row.start, count: row.count, k: cutoff, indices: &bestItems, scores: &best)
            for (item, score) in zip(own, ownScores) { row[Int(item)] = score }
            row[0] = padding
            let targetScore = row[Int(target)], targetIsOwn = own.contains(target)
            // Another target outside the ten has ten others at least as high: a miss under every step.
            let targetAmongBest = bestItems[..<found].contains(target)
            let othersAbove = { (score: Float) in zip(bestItems[..<found], best[..<found]).filter { $0.0 != target && $0.1 >= score }.count }
            let ownAbove = ownScores.filter { $0 >= targetScore }.count - (targetIsOwn ? 1 : 0)
            for (k, step) in steps.enumerated() where targetIsOwn || targetAmongBest {
                let moved = scale * step
                let r = targetIsOwn ? ownAbove + othersAbove(targetScore + moved)
                    : othersAbove(targetScore) + ownScores.filter { $0 + moved >= targetScore }.count
                if r < cutoff { gains.values[index * steps.count + k] = 1 / log2(Double(r) + 2) }
            }
            return rank
        }.ranks
        var sums = [Double](repeating: 0, count: steps.count)
        for i in 0..<gains.values.count { sums[i % steps.count] += gains.values[i] }
        return (metrics(ranks: ranks), sums)
    }
}

/// Each example's NDCG@10 under each step, written by the rows' workers at their own examples' slots.
private final class Gains: @unchecked Sendable {
    let values: UnsafeMutableBufferPointer<Double>
    init(count: Int) { values = .allocate(capacity: count); values.initialize(repeating: 0) }
    deinit { values.deallocate() }
}
