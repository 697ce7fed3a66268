import XCTest
import PleatCore
import PleatHistories
import PleatMetrics
import PleatModel
import PleatTensor

/// Evaluation's ranks by blocks of the catalogue (`ItemScoring.ranks`, which `Evaluator.ranked` uses past
/// its memory budget) equal the full row's (`RankingMetrics.fullRank`, `SeenItems.rank`), for every
/// model's scoring rule, with targets at block edges, seen targets and seen items left out.
final class BlockedRanksTests: XCTestCase {
    func testBlockedRanksAndListsMatchTheFullRows() throws {
        let items = 2 * ItemScoring.blockColumns + 300, batch = 12
        var rng = RandomSource(seed: 9)
        for (kind, repeatHead) in [(ModelKind.sasrec, false), (.sasrec, true), (.bert4rec, false), (.hstu, false)] {
            var spec = ModelSpec(kind: kind, maxLength: 12)
            (spec.sasrec.encoder.dimension, spec.bert4rec.encoder.dimension, spec.hstu.encoder.dimension) = (16, 16, 16)
            spec.sasrec.repeat = repeatHead
            let model = spec.makeModel(batchSize: batch, seed: 3, items: items)
            let edges: [Int32] = [1, Int32(ItemScoring.blockColumns), Int32(ItemScoring.blockColumns + 1), Int32(items)]
            let examples: [SequenceSplit.Example] = (0..<40).map { e in
                let history = (0..<(1 + rng.below(20))).map { _ in Int32(1 + rng.below(items)) }
                // Some targets at block edges, some already in the history.
                let target = e % 5 == 0 ? edges[e / 5 % edges.count] : e % 7 == 0 ? history[0] : Int32(1 + rng.below(items))
                return SequenceSplit.Example(user: e, history: history[...], historyTimes: history.indices.map { Int64($0) }[...], target: target,
                                             targetTime: Int64(history.count))
            }
            for seen in SeenItems.allCases {
                let full = Evaluator.ranked(model, examples, seen: seen, listLength: 10)
                let blocked = Evaluator.ranked(model, examples, seen: seen, listLength: 10, rowBudgetBytes: 0)
                let scores = Tensor([batch, items + 1])
                for (i, example) in examples.enumerated() {
                    // Rounding may differ between the full product and the blocks' (each BLAS shape blocks its
                    // own way): a rank may then move by the items whose scores are that close to the target's.
                    model.scores([Evaluator.query(example)], into: scores)
                    let row = UnsafeBufferPointer(start: scores.pointer, count: items + 1), t = row[Int(example.target)]
                    let close = (1...items).filter { $0 != Int(example.target) && abs(row[$0] - t) <= 1e-5 * max(1, abs(t)) }.count
                    XCTAssertLessThanOrEqual(abs(blocked.ranks[i] - full.ranks[i]), close, "\(kind) \(seen), example \(i)")
                    if full.ranks[i] == RankingMetrics.miss { XCTAssertEqual(blocked.ranks[i], RankingMetrics.miss) }
                    XCTAssertEqual(Set(blocked.lists[i]).count, 10, "\(kind) \(seen), example \(i)")
                    XCTAssertEqual(blocked.lists[i].count, full.lists[i].count)
                    if seen == .exclude { XCTAssertTrue(Set(blocked.lists[i]).isDisjoint(with: example.history)) }
                }
                let exact = zip(blocked.ranks, full.ranks).filter { $0 == $1 }.count
                XCTAssertGreaterThanOrEqual(exact, examples.count - 2, "\(kind) \(seen): nearly every rank is the same")
                XCTAssertEqual(Set(blocked.lists.flatMap { $0 }).intersection(full.lists.flatMap { $0 }).count,
                               Set(full.lists.flatMap { $0 }).count, "\(kind) \(seen): the same items listed")
            }
        }
    }

    /// A ranker without block scoring (a baseline) scores fewer queries per call past the budget, at least
    /// one: the same ranks and lists, in at most the budget's rows of scores.
    func testRankersWithoutBlocksScoreFewerRowsPerCallPastTheBudget() {
        final class RecordingRanker: ItemRanker {
            let batchSize = 12, items = 700
            var largestCall = 0
            func scores(_ queries: [ScoringQuery], into scores: Tensor) {
                largestCall = max(largestCall, queries.count)
                for (r, query) in queries.enumerated() {
                    let last = Int(query.history.items.last ?? 0)
                    for j in 0...items { scores.pointer[r * scores.columns + j] = Float((j * 7_919 + last * 31) % 1_009) }
                }
            }
        }
        var rng = RandomSource(seed: 4)
        let examples: [SequenceSplit.Example] = (0..<30).map { e in
            let history = (0..<(1 + rng.below(9))).map { _ in Int32(1 + rng.below(700)) }
            return SequenceSplit.Example(user: e, history: history[...], historyTimes: history.indices.map { Int64($0) }[...],
                                         target: Int32(1 + rng.below(700)), targetTime: Int64(history.count))
        }
        let rowBytes = 701 * MemoryLayout<Float>.size
        for seen in SeenItems.allCases {
            let whole = RecordingRanker()
            let full = Evaluator.ranked(whole, examples, seen: seen, listLength: 10)
            XCTAssertEqual(whole.largestCall, 12)
            for (budget, rows) in [(3 * rowBytes + 5, 3), (0, 1)] {
                let bounded = RecordingRanker()
                let answer = Evaluator.ranked(bounded, examples, seen: seen, listLength: 10, rowBudgetBytes: budget)
                XCTAssertEqual(bounded.largestCall, rows, "\(seen), budget \(budget)")
                XCTAssertEqual(answer.ranks, full.ranks, "\(seen), budget \(budget)")
                XCTAssertEqual(answer.lists, full.lists, "\(seen), budget \(budget)")
            }
        }
    }
}
