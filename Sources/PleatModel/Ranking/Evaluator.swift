import PleatCore
import PleatMetrics
import PleatTensor
import PleatHistories

/// Full-ranking evaluation shared by training (validation every epoch), the final test, baselines and
/// offline reports: each example's target is ranked among all items under the seen-items rule the
/// served lists follow (`SeenItems`), so that a figure is what serving can deliver. The sampled variant
/// ranks the target among `negatives` sampled items instead (the protocol of papers that used 100
/// uniform or popularity-sampled negatives), for comparison with their numbers.
public enum Evaluator {
    public static func evaluate(_ ranker: any ItemRanker, _ examples: [SequenceSplit.Example], seen: SeenItems,
                                cutoffs: [Int] = RankingMetrics.defaultCutoffs) -> RankingMetrics {
        metrics(ranks: ranked(ranker, examples, seen: seen).ranks, cutoffs: cutoffs)
    }

    /// Under `exclude`, negatives are drawn among the items the user has not seen, and a seen target is a
    /// miss; under `include`, among every item but the target.
    public static func evaluateSampled(_ ranker: any ItemRanker, _ examples: [SequenceSplit.Example], seen: SeenItems,
                                       sampler: NegativeSampler, negatives: Int = 100, seed: UInt64 = 1,
                                       cutoffs: [Int] = RankingMetrics.defaultCutoffs) -> RankingMetrics {
        let base = RandomSource(seed: seed)
        let ranks = rank(ranker, examples, seen: seen, listLength: 0) { scores, example, index, _ in
            guard seen.allows(example.target, after: example.seenItems) else { return RankingMetrics.miss }
            var rng = base.split(UInt64(index))
            var excluded = Set(seen.excluded(from: example.seenItems))
            excluded.remove(example.target)
            // A small catalogue may not hold `negatives` items to draw: then all of them are used.
            let drawn = sampler.sample(negatives, target: example.target, seen: excluded, rng: &rng)
            return RankingMetrics.sampledRank(scores: UnsafeBufferPointer(scores), target: Int(example.target), negatives: drawn)
        }.ranks
        return metrics(ranks: ranks, cutoffs: cutoffs)
    }

    /// Each example's full-ranking rank under `seen` (0 = first; `RankingMetrics.miss` for a target the
    /// rule keeps out of every list) and, when `listLength` > 0, the top `listLength` items the example
    /// would be served under the same rule (best first): what reports break down, and what scoring
    /// writes for the same history.
    ///
    /// A model whose batch of full rows of scores would pass `rowBudgetBytes` ranks in blocks of the
    /// catalogue instead (`ItemScoring.ranks`): the same counts, in memory that does not grow with the
    /// catalogue. Any other ranker (a baseline) scores fewer queries per call, as many full rows as the
    /// budget holds (at least one).
    public static func ranked(_ ranker: any ItemRanker, _ examples: [SequenceSplit.Example], seen: SeenItems,
                              listLength: Int = 0, rowBudgetBytes: Int = fullRowBudgetBytes) -> (ranks: [Int], lists: [[Int32]]) {
        if let model = ranker as? any BlockScoredRanker, ranker.batchSize * (ranker.items + 1) * MemoryLayout<Float>.size > rowBudgetBytes {
            return rankedInBlocks(model, examples, seen: seen, listLength: listLength)
        }
        return rank(ranker, examples, seen: seen, listLength: listLength, rowBudgetBytes: rowBudgetBytes) { scores, example, _, _ in
            seen.rank(scores: UnsafeBufferPointer(scores), target: example.target, history: example.seenItems)
        }
    }

    /// The most a batch of full rows of scores may take before ranking goes by blocks: 256 MiB (a batch
    /// of 256 at about 260,000 items).
    public static let fullRowBudgetBytes = 256 << 20

    /// Full rows of `columns` scores per call: the ranker's batch, or as many rows as `budgetBytes` holds
    /// (never fewer than one).
    static func rowsWithin(_ budgetBytes: Int, batchSize: Int, columns: Int) -> Int {
        max(1, min(batchSize, budgetBytes / (columns * MemoryLayout<Float>.size)))
    }

    /// `ranked` by blocks of the catalogue.
    static func rankedInBlocks(_ model: any BlockScoredRanker, _ examples: [SequenceSplit.Example], seen: SeenItems,
                               listLength: Int) -> (ranks: [Int], lists: [[Int32]]) {
        let scratch = Tensor([model.batchSize, ItemScoring.blockColumns])
        var ranks = [Int](repeating: 0, count: examples.count), lists = [[Int32]](repeating: [], count: listLength > 0 ? examples.count : 0)
        for chunk in batchesByLength(examples, size: model.batchSize) {
            let answer = model.itemScoring(for: chunk.map { query(examples[$0]) }).ranks(
                targets: chunk.map { examples[$0].target }, excluding: chunk.map { seen.excluded(from: examples[$0].seenItems) },
                k: listLength, scratch: scratch)
            for (r, index) in chunk.enumerated() {
                let example = examples[index]
                ranks[index] = seen.allows(example.target, after: example.seenItems) ? answer.ranks[r] : RankingMetrics.miss
                if listLength > 0 { lists[index] = answer.lists[r].items }
            }
        }
        return (ranks, lists)
    }

    /// Example indices in batches of `size`, shortest histories first, so that each batch costs about
    /// its own length (`SequenceBatch.pack`).
    static func batchesByLength(_ examples: [SequenceSplit.Example], size: Int) -> [ArraySlice<Int>] {
        let byLength = examples.indices.sorted { (examples[$0].history.count, $0) < (examples[$1].history.count, $1) }
        return stride(from: 0, to: examples.count, by: size).map { byLength[$0..<min($0 + size, examples.count)] }
    }

    /// The question an example asks: its history, at its target's time.
    public static func query(_ example: SequenceSplit.Example) -> ScoringQuery {
        ScoringQuery(history: EventSequence(items: example.history, times: example.historyTimes,
                                            behaviours: example.historyBehaviours, values: example.historyValues),
                     time: example.targetTime)
    }

    /// Each target's rank among itself and the items its user has never interacted with: a probe of what
    /// a model remembers of a user (whether it knows an item seen 1,000 events back, say), never the
    /// figure of a served list, which `ranked` gives under the seen-items rule.
    public static func ranksAmongUnseen(_ ranker: any ItemRanker, _ examples: [SequenceSplit.Example]) -> [Int] {
        rank(ranker, examples, seen: .exclude, listLength: 0) { scores, example, _, _ in
            RankingMetrics.fullRank(scores: UnsafeBufferPointer(scores), target: Int(example.target), excluded: Set(example.history))
        }.ranks
    }

    /// Ranks grouped by whether each example's target is already in its history.
    public static func repeatBreakdown(ranks: [Int], _ examples: [SequenceSplit.Example],
                                       cutoffs: [Int] = RankingMetrics.defaultCutoffs) -> RepeatBreakdown {
        RepeatBreakdown(ranks: ranks, isRepeat: examples.map(\.isRepeat), cutoffs: cutoffs)
    }

    public static func metrics(ranks: [Int], cutoffs: [Int] = RankingMetrics.defaultCutoffs) -> RankingMetrics {
        var metrics = RankingMetrics(cutoffs: cutoffs)
        for r in ranks { metrics.add(rank: r) }
        return metrics
    }

    /// Scores the examples batch by batch and ranks each row (rows over the cores); with `listLength`
    /// > 0 also selects each row's top items after ranking (the row is then overwritten). Batches are
    /// formed in order of history length, so that each costs about its own length (`SequenceBatch.pack`);
    /// results are stored by example index, so the order changes nothing else. `rankOf` gets the row,
    /// its example, the example's index and the row's place among the last `scores` call's queries.
    static func rank(_ ranker: any ItemRanker, _ examples: [SequenceSplit.Example], seen: SeenItems, listLength: Int,
                     rowBudgetBytes: Int = fullRowBudgetBytes,
                     _ rankOf: @Sendable (UnsafeMutableBufferPointer<Float>, SequenceSplit.Example, Int, Int) -> Int)
        -> (ranks: [Int], lists: [[Int32]]) {
        let rowsPerCall = rowsWithin(rowBudgetBytes, batchSize: ranker.batchSize, columns: ranker.items + 1)
        let scores = Tensor([rowsPerCall, ranker.items + 1])
        let k = min(listLength, ranker.items)
        var ranks = [Int](repeating: 0, count: examples.count)
        var listItems = [Int32](repeating: 0, count: examples.count * k), listCounts = [Int](repeating: 0, count: examples.count)
        var selected = [Float](repeating: 0, count: rowsPerCall * k)
        for chunk in batchesByLength(examples, size: rowsPerCall) {
            let start = chunk.startIndex
            ranker.scores(chunk.map { query(examples[$0]) }, into: scores)
            ranks.withUnsafeMutableBufferPointer { ranks in
                listItems.withUnsafeMutableBufferPointer { items in
                    listCounts.withUnsafeMutableBufferPointer { counts in
                        selected.withUnsafeMutableBufferPointer { selected in
                            Parallel.forRows(chunk.count, minimumPerWorker: 8) { rows in
                                for r in rows {
                                    let row = UnsafeMutableBufferPointer(start: scores.pointer + r * scores.columns, count: scores.columns)
                                    let index = chunk[start + r], example = examples[index]
                                    ranks[index] = rankOf(row, example, index, r)
                                    guard k > 0 else { continue }
                                    row[0] = -.infinity
                                    for item in seen.excluded(from: example.seenItems) { row[Int(item)] = -.infinity }
                                    counts[index] = TopK.select(row.start, count: row.count, k: k,
                                                                indices: items.start + index * k,
                                                                scores: selected.start + r * k)
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
