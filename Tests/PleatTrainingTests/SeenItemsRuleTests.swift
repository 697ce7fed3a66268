import Foundation
import XCTest
import PleatCore
import PleatMetrics
import PleatModel
import PleatHistories
import PleatTestSupport
@testable import PleatTraining

/// The seen-items rule in training: validation and test are measured under the config's `seen`, a
/// repeat target is a miss under `exclude` (counted, never credited), and the outcome reports the test
/// under both rules and with repeat and new targets apart.
final class SeenItemsRuleTests: XCTestCase {
    /// Users who come back: each cycles through a few items of its own, so about half the users' last
    /// events repeat an earlier one; the others end on a new item.
    static func returningSplit(users: Int = 120, seed: UInt64 = 11) -> SequenceSplit {
        var rng = RandomSource(seed: seed)
        var h = InteractionHistories()
        for user in 0..<Int32(users) {
            let own = (0..<3).map { _ in Int32(1 + rng.below(40)) }
            var items = (0..<9).map { own[$0 % 3] }
            items.append(user % 2 == 0 ? own[0] : Int32(41 + rng.below(40)))
            for (t, item) in items.enumerated() { h.append(user: user, item: item, time: Int64(t)) }
        }
        h.finish()
        return SequenceSplit(h)
    }

    func testRepeatTargetsAreMissesUnderExcludeAndReportedApart() throws {
        let split = Self.returningSplit(), dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let repeats = split.testExamples.filter(\.isRepeat).count
        XCTAssertGreaterThan(repeats, 40)
        XCTAssertLessThan(repeats, split.testExamples.count)
        var outcomes: [SeenItems: TrainingOutcome] = [:]
        for seen in SeenItems.allCases {
            var config = TrainingJobTests.config(.sasrec, epochs: 3)
            (config.maxLength, config.seen) = (12, seen)
            var lines: [String] = []
            let trainer = Trainer(config: config, split: split, run: RunDirectory(dir.appendingPathComponent(seen.rawValue)),
                                  showProgress: false, log: { lines.append($0) })
            let outcome = try trainer.train(modelId: seen.rawValue)
            outcomes[seen] = outcome
            XCTAssertTrue(lines.contains { $0.contains("repeat targets") && $0.contains("seen = \(seen.rawValue)") }, "the run says the share and the rule")

            XCTAssertEqual(outcome.testByRule[seen.rawValue], outcome.test.summary, "`test` is the config's rule")
            XCTAssertEqual(Set(outcome.testByRule.keys), Set(SeenItems.allCases.map(\.rawValue)))
            XCTAssertEqual(outcome.testTargets.repeats.count, repeats)
            XCTAssertEqual(outcome.testTargets.repeats.count + outcome.testTargets.new.count, outcome.test.count, "never dropped")
            // The parts average back to the whole.
            let parts = outcome.testTargets.repeats.ndcg(at: 10) * Double(repeats)
                + outcome.testTargets.new.ndcg(at: 10) * Double(outcome.testTargets.new.count)
            XCTAssertEqual(parts / Double(outcome.test.count), outcome.test.ndcg(at: 10), accuracy: 1e-9)
        }
        let exclude = try XCTUnwrap(outcomes[.exclude]), include = try XCTUnwrap(outcomes[.include])
        XCTAssertEqual(exclude.testTargets.repeats.hitRate(at: 50), 0, "a seen target is a miss under exclude")
        XCTAssertEqual(exclude.testTargets.repeats.mrr, 0)
        print(String(format: "repeat targets' HR@10: %.3f under include, %.3f under exclude", include.testTargets.repeats.hitRate(at: 10),
                     exclude.testTargets.repeats.hitRate(at: 10)))
        XCTAssertGreaterThan(include.testTargets.repeats.hitRate(at: 10), 0.2, "under include a repeat target can be a hit")
    }
}
