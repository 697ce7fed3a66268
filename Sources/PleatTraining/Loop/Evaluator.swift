import PleatCore
import PleatMetrics
import PleatTensor

/// Full-ranking evaluation shared by training (validation every epoch), the final test and baselines:
/// each example's target is ranked among all items, the user's already-seen items filtered out.
public enum Evaluator {
    public static func evaluate(_ ranker: any ItemRanker, _ examples: [SequenceSplit.Example],
                                cutoffs: [Int] = RankingMetrics.defaultCutoffs) -> RankingMetrics {
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
                        let example = chunk[chunk.startIndex + r]
                        let row = UnsafeBufferPointer(start: scores.pointer + r * scores.columns, count: scores.columns)
                        ranks[r] = RankingMetrics.fullRank(scores: row, target: Int(example.target), excluded: Set(example.history))
                    }
                }
            }
            for r in 0..<chunk.count { metrics.add(rank: ranks[r]) }
        }
        return metrics
    }
}
