import Foundation
import XCTest
import PleatCore
import PleatIngest
import PleatStorage
import PleatTestSupport
import PleatHistories
import PleatTraining
@testable import PleatEvaluation

/// `target_events` across stages: the run holds out each user's last purchases and `pleat evaluate`'s
/// split holds out the same ones.
final class TargetEventsEvaluationTests: XCTestCase {
    /// A shop's log: users view items along a walk and buy a few of them. Trained for purchases, the
    /// model's validation and test targets are purchases, and `pleat evaluate`'s split is the same one.
    func testTrainingForPurchasesHoldsOutPurchasesAndEvaluationRepeatsIt() throws {
        let db = try PostgresConnection(url: try TestDatabase.fresh())
        let dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = RandomSource(seed: 5)
        var csv = "user_id,item_id,timestamp,event_type\n"
        for user in 0..<80 {
            let start = rng.below(60)
            for t in 0..<16 {
                let item = (start + t) % 60
                csv += "u\(user),i\(item),\(1_000 + 10 * t),view\n"
                if rng.below(3) == 0 { csv += "u\(user),i\(item),\(1_005 + 10 * t),buy\n" }
            }
        }
        let file = dir.appendingPathComponent("shop.csv").path
        try csv.write(toFile: file, atomically: true, encoding: .utf8)
        _ = try Ingestor(db: db).ingest(file: file, options: IngestOptions(format: .csv))

        var config = TrainingConfig(model: .sasrec)
        (config.epochs, config.batchSize, config.maxLength, config.sasrec.encoder.dimension) = (2, 32, 24, 16)
        (config.targetEvents, config.seen) = (["buy"], .include)
        var job = TrainingJob(config: config, artifacts: dir.appendingPathComponent("models"))
        (job.showProgress, job.log) = (false, { _ in })
        let result = try job.run(db: db)

        let histories = try HistoryLoader.load(from: db)
        let buy = try XCTUnwrap(try EventTypeTable(db).ids()["buy"])
        let expected = SequenceSplit(histories, targetBehaviours: [buy])
        XCTAssertGreaterThan(expected.testExamples.count, 60)
        XCTAssertTrue(expected.testExamples.allSatisfy { $0.targetBehaviour == buy })
        XCTAssertTrue(expected.testExamples.contains { $0.historyBehaviours.contains { $0 != buy } }, "views are history")
        XCTAssertEqual(result.outcome?.test.count, expected.testExamples.count, "the run tested each user's last purchase")
        let (shared, _) = try OfflineEvaluation.sharedSplit([result.record], db: db)
        XCTAssertEqual(shared.targetBehaviours, [buy])
        XCTAssertEqual(shared.testExamples, expected.testExamples, "evaluation holds out the same purchases")

        // The report breaks metrics down by the behaviour of the event to predict: all purchases here;
        // with every event a target (baselines alone, the default split), views and purchases apart.
        var evaluation = OfflineEvaluation(modelIds: [result.record.id])
        evaluation.log = { _ in }
        let model = try XCTUnwrap(try evaluation.run(db: db).ranker(result.record.id))
        XCTAssertEqual(model.byTargetBehaviour.map(\.bucket), ["buy"])
        XCTAssertEqual(model.byTargetBehaviour.first?.users, expected.testExamples.count)
        var everyEvent = OfflineEvaluation(modelIds: [])
        everyEvent.log = { _ in }
        let recent = try XCTUnwrap(try everyEvent.run(db: db).ranker("recent"))
        let all = SequenceSplit(histories)
        XCTAssertEqual(recent.byTargetBehaviour.map(\.bucket), ["buy", "view"])
        XCTAssertEqual(recent.byTargetBehaviour.map(\.users), [all.testExamples.filter { $0.targetBehaviour == buy }.count,
                                                               all.testExamples.filter { $0.targetBehaviour != buy }.count])
        let html = ReportWriter(try everyEvent.run(db: db)).html()
        XCTAssertTrue(html.contains("By the behaviour of the event to predict"))

        var unknown = config
        unknown.targetEvents = ["purchase"]
        var failing = TrainingJob(config: unknown, artifacts: dir.appendingPathComponent("models"))
        (failing.showProgress, failing.log) = (false, { _ in })
        XCTAssertThrowsError(try failing.run(db: db)) { error in
            XCTAssertTrue("\(error)".contains("no event type 'purchase'") && "\(error)".contains("buy, view"), "\(error)")
        }
    }
}
