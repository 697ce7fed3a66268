import XCTest
import PleatMetrics
import PleatEvaluation
import PleatModel
import PleatHistories

/// The repeat baselines rank the user's own items first, in their order, then the rest by popularity;
/// under `exclude` nothing of their own is left and they rank as popularity does.
final class RepeatBaselineTests: XCTestCase {
    /// Ten items; item k has k training events (item 10 the most popular).
    static let split: SequenceSplit = {
        var h = InteractionHistories()
        var user: Int32 = 0
        for item in Int32(1)...10 {
            for _ in 0..<item {
                user += 1
                for (t, i) in [item, item, item].enumerated() { h.append(user: user, item: i, time: Int64(t)) }
            }
        }
        h.finish()
        return SequenceSplit(h)
    }()

    static func example(_ history: [Int32]) -> SequenceSplit.Example {
        SequenceSplit.Example(user: 0, history: history[...], historyTimes: history.indices.map { Int64($0) }[...], target: 1, targetTime: 99)
    }

    func testRecentAndFrequentListTheUsersItemsInTheirOrderThenPopularOnes() {
        let split = Self.split
        XCTAssertEqual(split.vocabulary.count, 10)
        let byPopularity = (1...10).map { Int32($0) }.sorted { split.trainCounts[Int($0)] > split.trainCounts[Int($1)] }
        let examples = [Self.example([5, 7, 5, 9, 7, 5]), Self.example([1, 2, 2, 1, 3])]
        func lists(_ baseline: Baseline, _ seen: SeenItems) -> [[Int32]] {
            Evaluator.ranked(baseline.ranker(split), examples, seen: seen, listLength: 6).lists
        }
        func thenPopular(_ own: [Int32]) -> [Int32] { Array((own + byPopularity.filter { !own.contains($0) }).prefix(6)) }
        XCTAssertEqual(lists(.recent, .include), [thenPopular([5, 7, 9]), thenPopular([3, 1, 2])], "newest first, each item once")
        XCTAssertEqual(lists(.frequent, .include), [thenPopular([5, 7, 9]), thenPopular([1, 2, 3])], "most frequent first, the more recent on ties")
        let popular = lists(.pop, .exclude)
        XCTAssertEqual(lists(.recent, .exclude), popular)
        XCTAssertEqual(lists(.frequent, .exclude), popular)
        XCTAssertTrue(zip(examples, popular).allSatisfy { example, list in list.allSatisfy { !example.history.contains($0) } })
        // The target (item 1) is the second of the user's own items in the second history.
        let ranks = Evaluator.ranked(Baseline.recent.ranker(split), examples, seen: .include).ranks
        XCTAssertEqual(ranks[1], 1)
        XCTAssertEqual(Evaluator.ranked(Baseline.recent.ranker(split), examples, seen: .exclude).ranks[1], RankingMetrics.miss)
    }
}
