import PleatCore
import PleatMetrics
import PleatTensor

/// Full-ranking evaluation shared by training (validation every epoch), the final test and baselines:
/// each example's target is ranked among all items, the user's already-seen items filtered out. The
/// sampled variant ranks the target among `negatives` sampled items instead (the protocol of papers that
/// used 100 uniform or popularity-sampled negatives, never seen items), for comparison with their numbers.
public enum Evaluator {
    public static func evaluate(_ ranker: any ItemRanker, _ examples: [SequenceSplit.Example],
                                cutoffs: [Int] = RankingMetrics.defaultCutoffs) -> RankingMetrics {
        rank(ranker, examples, cutoffs: cutoffs) { scores, example, _ in
            RankingMetrics.fullRank(scores: scores, target: Int(example.target), excluded: Set(example.history))
        }
    }

    public static func evaluateSampled(_ ranker: any ItemRanker, _ examples: [SequenceSplit.Example], sampler: NegativeSampler,
                                       negatives: Int = 100, seed: UInt64 = 1,
                                       cutoffs: [Int] = RankingMetrics.defaultCutoffs) -> RankingMetrics {
        let base = RandomSource(seed: seed), items = ranker.items
        return rank(ranker, examples, cutoffs: cutoffs) { scores, example, index in
            var rng = base.split(UInt64(index))
            var seen = Set(example.history)
            seen.remove(example.target)
            // A small catalogue may not hold `negatives` unseen items: then all of them are used.
            let count = min(negatives, items - 1 - seen.count)
            let drawn = sampler.sample(count, target: example.target, seen: seen, rng: &rng)
            return RankingMetrics.sampledRank(scores: scores, target: Int(example.target), negatives: drawn)
        }
    }

    /// Scores the examples batch by batch and ranks each row (rows over the cores).
    private static func rank(_ ranker: any ItemRanker, _ examples: [SequenceSplit.Example], cutoffs: [Int],
                             _ rankOf: @Sendable (UnsafeBufferPointer<Float>, SequenceSplit.Example, Int) -> Int) -> RankingMetrics {
        var metrics = RankingMetrics(cutoffs: cutoffs)
        let scores = Tensor([ranker.batchSize, ranker.items + 1])
        var ranks = [Int](repeating: 0, count: ranker.batchSize)
        for start in stride(from: 0, to: examples.count, by: ranker.batchSize) {
            let chunk = examples[start..<min(start + ranker.batchSize, examples.count)]
            let queries = chunk.map {
                ScoringQuery(history: EventSequence(items: $0.history, times: $0.historyTimes), time: $0.targetTime)
            }
            ranker.scores(queries, into: scores)
            ranks.withUnsafeMutableBufferPointer { ranks in
                Parallel.forRows(chunk.count, minimumPerWorker: 8) { rows in
                    for r in rows {
                        let row = UnsafeBufferPointer(start: scores.pointer + r * scores.columns, count: scores.columns)
                        ranks[r] = rankOf(row, chunk[start + r], start + r)
                    }
                }
            }
            for r in 0..<chunk.count { metrics.add(rank: ranks[r]) }
        }
        return metrics
    }
}
