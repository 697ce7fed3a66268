import Foundation
import XCTest
import PleatCore
import PleatIngest
import PleatStorage
import PleatTestSupport
import PleatHistories
import PleatEvaluation
@testable import PleatModel
@testable import PleatTraining

/// `target_events`: only events of the target behaviours are labels and held-out targets, every event
/// is history; the config reads it from a file line, `--set` or JSON, and evaluation repeats the split.
final class TargetEventsTests: XCTestCase {
    func testConfigReadsTargetEventsAndSaysWhatItNeeds() throws {
        let dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("train.conf")
        try "target_events = [buy]\nseen = include\n".write(to: file, atomically: true, encoding: .utf8)
        let fromFile = try TrainingConfig.resolve(model: .sasrec, file: file, overrides: [])
        XCTAssertEqual(fromFile.targetEvents, ["buy"])
        XCTAssertNoThrow(try fromFile.validate())
        XCTAssertEqual(fromFile.splitRule.targetEvents, ["buy"], "part of the split evaluation repeats")
        for (set, names) in [("target_events=buy, cart", ["buy", "cart"]), (#"target_events=["buy"]"#, ["buy"]), ("target_events='buy'", ["buy"])] {
            XCTAssertEqual(try TrainingConfig.resolve(model: nil, file: nil, overrides: [set]).targetEvents?.names, names, set)
        }
        try #"{"target_events": ["cart", "buy"], "seen": "include"}"#.write(to: file, atomically: true, encoding: .utf8)
        let fromJSON = try TrainingConfig.resolve(model: nil, file: file, overrides: [])
        XCTAssertEqual(fromJSON.targetEvents, ["cart", "buy"])
        XCTAssertEqual(try TrainingConfig.stored(String(decoding: try fromJSON.jsonData(), as: UTF8.self), source: "test"), fromJSON,
                       "a stored config reads back with its list")
        XCTAssertNil(TrainingConfig().targetEvents, "every event is a target by default")

        func error(_ overrides: [String]) -> String {
            do { try TrainingConfig.resolve(model: nil, file: nil, overrides: overrides).validate(); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(error(["target_events=[]"]).contains("target_events"), error(["target_events=[]"]))
        XCTAssertTrue(error(["target_events=buy"]).contains("seen = include"), "exclude would never list an item the user viewed")
        XCTAssertTrue(error(["target_events=buy", "seen=include", "model=bert4rec"]).contains("bert4rec"))
        XCTAssertEqual(error(["target_events=buy", "seen=include", "model=hstu"]), "")
    }

    /// Only positions whose next event is a target carry a label; the inputs are every event.
    func testOnlyTargetEventsAreLabels() {
        let batch = SequenceBatch(batch: 1, length: 6)
        let items: [Int32] = [1, 2, 3, 4, 5], targets = [false, true, false, false, true]
        batch.placeShifted(EventSequence(items: items[...], times: [10, 20, 30, 40, 50][...], targets: targets[...]), row: 0)
        XCTAssertEqual(Array(batch.ids.prefix(4)), [1, 2, 3, 4], "every event is input")
        XCTAssertEqual(Array(batch.labels.prefix(5)), [2, -1, -1, 5, -1], "the events of the target behaviour are labels")
        batch.clear()
        batch.placeShifted(EventSequence(items: items[...], times: [10, 20, 30, 40, 50][...]), row: 0)
        XCTAssertEqual(Array(batch.labels.prefix(5)), [2, 3, 4, 5, -1], "without targets every next event is")
    }

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

        var config = TrainingJobTests.config(.sasrec, epochs: 2)
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

        var unknown = config
        unknown.targetEvents = ["purchase"]
        var failing = TrainingJob(config: unknown, artifacts: dir.appendingPathComponent("models"))
        (failing.showProgress, failing.log) = (false, { _ in })
        XCTAssertThrowsError(try failing.run(db: db)) { error in
            XCTAssertTrue("\(error)".contains("no event type 'purchase'") && "\(error)".contains("buy, view"), "\(error)")
        }
    }
}
