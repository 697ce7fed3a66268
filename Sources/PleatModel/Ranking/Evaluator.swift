import PleatCore
import PleatMetrics
import PleatTensor
import PleatHistories

/// Full-ranking evaluation shared by training (validation every epoch), the final test, baselines and
/// offline reports: each example's target is ranked among all items, the user's already-seen items
/// filtered out. The sampled variant ranks the target among `negatives` sampled items instead (the
/// protocol of papers that used 100 uniform or popularity-sampled negatives, never seen items), for
/// comparison with their numbers.
public enum Evaluator {
    /// `filterSeen` false ranks the user's earlier items too (a repeat can then be a hit).
    public static func evaluate(_ ranker: any ItemRanker, _ examples: [SequenceSplit.Example], filterSeen: Bool = true,
                                cutoffs: [Int] = RankingMetrics.defaultCutoffs) -> RankingMetrics {
        let ranks = filterSeen ? ranked(ranker, examples).ranks : rank(ranker, examples, listLength: 0) { scores, example, _ in
            RankingMetrics.fullRank(scores: UnsafeBufferPointer(scores), target: Int(example.target))
        }.ranks
        return metrics(ranks: ranks, cutoffs: cutoffs)
    }

    public static func evaluateSampled(_ ranker: any ItemRanker, _ examples: [SequenceSplit.Example], sampler: NegativeSampler,
                                       negatives: Int = 100, seed: UInt64 = 1,
                                       cutoffs: [Int] = RankingMetrics.defaultCutoffs) -> RankingMetrics {
        let base = RandomSource(seed: seed)
        let ranks = rank(ranker, examples, listLength: 0) { scores, example, index in
            var rng = base.split(UInt64(index))
            var seen = Set(example.history)
            seen.remove(example.target)
            // A small catalogue may not hold `negatives` items to draw: then all of them are used.
            let drawn = sampler.sample(negatives, target: example.target, seen: seen, rng: &rng)
            return RankingMetrics.sampledRank(scores: UnsafeBufferPointer(scores), target: Int(example.target), negatives: drawn)
        }.ranks
        return metrics(ranks: ranks, cutoffs: cutoffs)
    }

    /// Each example's full-ranking rank (0 = first) and, when `listLength` > 0, the top `listLength`
    /// items it would be recommended (seen items excluded, best first): what reports break down.
    public static func ranked(_ ranker: any ItemRanker, _ examples: [SequenceSplit.Example],
                              listLength: Int = 0) -> (ranks: [Int], lists: [[Int32]]) {
        rank(ranker, examples, listLength: listLength) { scores, example, _ in
            RankingMetrics.fullRank(scores: UnsafeBufferPointer(scores), target: Int(example.target), excluded: Set(example.history))
        }
    }

    public static func metrics(ranks: [Int], cutoffs: [Int] = RankingMetrics.defaultCutoffs) -> RankingMetrics {
        var metrics = RankingMetrics(cutoffs: cutoffs)
        for r in ranks { metrics.add(rank: r) }
        return metrics
    }

    /// Scores the examples batch by batch and ranks each row (rows over the cores); with `listLength`
    /// > 0 also selects each row's top items after ranking (the row is then overwritten). Batches are
    /// formed in order of history length, so that each costs about its own length (`SequenceBatch.pack`);
    /// results are stored by example index, so the order changes nothing else.
    private static func rank(_ ranker: any ItemRanker, _ examples: [SequenceSplit.Example], listLength: Int,
                             _ rankOf: @Sendable (UnsafeMutableBufferPointer<Float>, SequenceSplit.Example, Int) -> Int)
        -> (ranks: [Int], lists: [[Int32]]) {
        let scores = Tensor([ranker.batchSize, ranker.items + 1])
        let k = min(listLength, ranker.items)
        var ranks = [Int](repeating: 0, count: examples.count)
        var listItems = [Int32](repeating: 0, count: examples.count * k), listCounts = [Int](repeating: 0, count: examples.count)
        var selected = [Float](repeating: 0, count: ranker.batchSize * k)
        let byLength = examples.indices.sorted { (examples[$0].history.count, $0) < (examples[$1].history.count, $1) }
        for start in stride(from: 0, to: examples.count, by: ranker.batchSize) {
            let chunk = byLength[start..<min(start + ranker.batchSize, examples.count)]
            let queries = chunk.map {
                ScoringQuery(history: EventSequence(items: examples[$0].history, times: examples[$0].historyTimes), time: examples[$0].targetTime)
            }
            ranker.scores(queries, into: scores)
            ranks.withUnsafeMutableBufferPointer { ranks in
                listItems.withUnsafeMutableBufferPointer { items in
                    listCounts.withUnsafeMutableBufferPointer { counts in
                        selected.withUnsafeMutableBufferPointer { selected in
                            Parallel.forRows(chunk.count, minimumPerWorker: 8) { rows in
                                for r in rows {
                                    let row = UnsafeMutableBufferPointer(start: scores.pointer + r * scores.columns, count: scores.columns)
                                    let index = chunk[start + r], example = examples[index]
                                    ranks[index] = rankOf(row, example, index)
                                    guard k > 0 else { continue }
                                    row[0] = -.infinity
                                    for item in example.history { row[Int(item)] = -.infinity }
                                    counts[index] = TopK.select(row.baseAddress!, count: row.count, k: k,
                                                                indices: items.baseAddress! + index * k,
                                                                scores: selected.baseAddress! + r * k)
                                }
                            }
                        }
                    }
                }
            }
        }
        let lists = k > 0 ? examples.indices.map { Array(listItems[($0 * k)..<($0 * k + listCounts[$0])]) } : []
        return (ranks, lists)
    }
}
