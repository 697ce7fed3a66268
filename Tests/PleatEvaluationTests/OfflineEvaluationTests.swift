import Foundation
import XCTest
import PleatCore
@testable import PleatEvaluation
import PleatMetrics
import PleatScoring
import PleatStorage
import PleatTestSupport
import PleatTraining
import PleatModel
import PleatHistories

final class OfflineEvaluationTests: XCTestCase {
    /// The report's numbers are the metrics module's: the registry's test metrics for the trained model
    /// (computed during training), Evaluator on the baseline, sampled metrics with the same seed, coverage
    /// from the model's own top-10 lists, and breakdowns that average back to the overall figure.
    func testReportNumbersMatchTheMetricsModule() throws {
        let fixture = try WalkFixture()
        defer { fixture.remove() }
        let config = try JSONDecoder.snakeCase.decode(TrainingConfig.self, from: Data(fixture.sasrec.config.utf8))
        var evaluation = OfflineEvaluation(modelIds: [fixture.sasrec.id, fixture.hstu.id])
        (evaluation.sampled, evaluation.seed, evaluation.log) = ([.uniform], config.seed, { _ in })
        let report = try evaluation.run(db: fixture.db)

        XCTAssertEqual(report.rankers.map(\.name), ["pop", "markov", "recent", "frequent", fixture.sasrec.id, fixture.hstu.id])
        XCTAssertEqual(report.seen, .exclude, "the models' rule")
        XCTAssertEqual(report.users, 200)
        for record in [fixture.sasrec, fixture.hstu] {
            let result = try XCTUnwrap(report.ranker(record.id))
            for key in record.test.names { XCTAssertEqual(result.metrics[key]!, record.test[key]!, accuracy: 1e-6, "\(record.id) \(key)") }
            let sampled = try XCTUnwrap(record.testSampled["uniform"])
            for key in sampled.names {
                XCTAssertEqual(result.sampled["uniform"]![key]!, sampled[key]!, accuracy: 1e-6, "\(record.id) sampled \(key)")
            }
            XCTAssertEqual(result.trainingCurve.count, record.epochs)
        }

        let histories = try HistoryLoader.load(from: fixture.db)
        let split = SequenceSplit(histories, minCount: config.minCount)
        let pop = Evaluator.evaluate(PopularityRanker(split: split), split.testExamples, seen: .exclude).summary
        XCTAssertEqual(report.ranker("pop")!.metrics, pop)
        // Under exclude the repeat baselines can serve none of their own items: what is left is popularity.
        XCTAssertEqual(report.ranker("recent")!.metrics, pop)
        XCTAssertEqual(report.ranker("frequent")!.metrics, pop)
        // The walks are first-order: transitions beat popularity by far.
        XCTAssertGreaterThan(report.ranker("markov")!.metrics.ndcg(at: 10)!, 3 * pop.ndcg(at: 10)!)
        XCTAssertEqual(report.bestBaseline, "markov")

        // Coverage from the model's own top-10 lists, scored through the scoring path.
        let model = try ScoringModel.load(fixture.sasrec, db: fixture.db, batchSize: 50)
        var listed = Set<Int32>()
        let tests = split.testExamples
        for start in stride(from: 0, to: tests.count, by: 50) {
            let chunk = tests[start..<min(start + 50, tests.count)].map {
                ModelHistory(items: Array($0.history), times: Array($0.historyTimes), behaviours: Array($0.historyBehaviours))
            }
            for top in model.topK(chunk, k: 10, seen: .exclude) { listed.formUnion(top.items) }
        }
        let sasrec = report.ranker(fixture.sasrec.id)!
        XCTAssertEqual(sasrec.coverage, Double(listed.count) / Double(split.vocabulary.count), accuracy: 1e-12)

        XCTAssertEqual(report.repeatTargets, split.testExamples.filter(\.isRepeat).count)
        XCTAssertGreaterThan(report.repeatTargets, 0, "the walks' random detours repeat items")
        XCTAssertEqual(sasrec.byTarget.first { $0.bucket == "repeat" }?.users, report.repeatTargets)
        XCTAssertEqual(sasrec.byTarget.first { $0.bucket == "repeat" }?.hr10, 0, "a seen target is a miss under exclude")
        for buckets in [sasrec.byHistoryLength, sasrec.byItemPopularity, sasrec.byTarget] {
            XCTAssertEqual(buckets.reduce(0) { $0 + $1.users }, report.users)
            let weighted = buckets.reduce(0.0) { $0 + $1.ndcg10 * Double($1.users) } / Double(report.users)
            XCTAssertEqual(weighted, sasrec.metrics.ndcg(at: 10)!, accuracy: 1e-9)
        }
        let versus = try XCTUnwrap(sasrec.versusBestBaseline)
        XCTAssertEqual(versus.meanDifference, sasrec.metrics.ndcg(at: 10)! - report.ranker("markov")!.metrics.ndcg(at: 10)!, accuracy: 1e-9)
        XCTAssertLessThanOrEqual(versus.ciLow, versus.meanDifference)
        XCTAssertGreaterThanOrEqual(versus.ciHigh, versus.meanDifference)
        // The two models paired with each other, one the mirror of the other; baselines pair with none.
        let hstu = report.ranker(fixture.hstu.id)!
        let sasrecVersusHSTU = try XCTUnwrap(sasrec.versusModels?[fixture.hstu.id]), mirror = try XCTUnwrap(hstu.versusModels?[fixture.sasrec.id])
        XCTAssertEqual(sasrecVersusHSTU.meanDifference, sasrec.metrics.ndcg(at: 10)! - hstu.metrics.ndcg(at: 10)!, accuracy: 1e-9)
        XCTAssertEqual(mirror.meanDifference, -sasrecVersusHSTU.meanDifference, accuracy: 1e-12)
        XCTAssertEqual(mirror.pValue, sasrecVersusHSTU.pValue, accuracy: 1e-9)
        XCTAssertEqual(sasrec.versusModels?.count, 1)
        XCTAssertNil(report.ranker("markov")!.versusModels)
    }

    /// The three files hold the report's numbers; the run is recorded in evaluation_runs.
    func testReportFilesAndRunRecord() throws {
        let fixture = try WalkFixture()
        defer { fixture.remove() }
        var evaluation = OfflineEvaluation(modelIds: [fixture.sasrec.id])
        evaluation.log = { _ in }
        let report = try evaluation.run(db: fixture.db)
        let directory = fixture.directory.appendingPathComponent("report")
        try ReportWriter(report).write(to: directory)
        let id = try EvaluationRunLog(fixture.db).record(report.runLogEntry(reportDirectory: directory.path))

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("metrics.json"))) as! [String: Any]
        let rankers = json["rankers"] as! [[String: Any]]
        let stored = rankers.first { $0["name"] as? String == fixture.sasrec.id }!["metrics"] as! [String: Double]
        let metrics = report.ranker(fixture.sasrec.id)!.metrics
        XCTAssertEqual(Set(stored.keys), Set(metrics.names))
        for key in metrics.names { XCTAssertEqual(stored[key]!, metrics[key]!, accuracy: 1e-12, key) }

        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 4, "quality, repeat and new targets, history length and training-curve charts")
        XCTAssertTrue(html.contains("seen items: exclude"), "the header names the rule")
        XCTAssertFalse(html.contains("src=\"http"), "self-contained")
        let ndcg = String(format: "%.4f", report.ranker(fixture.sasrec.id)!.metrics.ndcg(at: 10)!)
        XCTAssertTrue(html.contains("<td>\(ndcg)</td>") || html.contains("<td class=\"best\">\(ndcg)</td>"))
        let summary = try String(contentsOf: directory.appendingPathComponent("summary.md"), encoding: .utf8)
        XCTAssertTrue(summary.contains("| \(fixture.sasrec.id) | sasrec |"))
        XCTAssertTrue(summary.contains(ndcg))
        // The verdict comes first and agrees with the paired test.
        let versus = try XCTUnwrap(report.ranker(fixture.sasrec.id)?.versusBestBaseline)
        let beats = versus.pValue < 0.05 && versus.meanDifference > 0
        let verdict = try XCTUnwrap(ReportWriter(report).verdict.first)
        XCTAssertEqual(verdict.hasPrefix("Every model beats the best baseline"), beats, verdict)
        XCTAssertEqual(verdict.hasPrefix("\(fixture.sasrec.id) (sasrec)"), !beats, verdict)
        XCTAssertLessThan(try XCTUnwrap(summary.range(of: verdict)).lowerBound, try XCTUnwrap(summary.range(of: "## ")).lowerBound)
        XCTAssertTrue(html.contains("<p class=\"verdict\">"))

        let row = try fixture.db.query("SELECT models, baselines, users, (metrics->>'users')::int FROM evaluation_runs WHERE id = $1", [.int(id)])
        XCTAssertEqual(row.string(0, 0), "{\(fixture.sasrec.id)}")
        XCTAssertEqual(row.string(0, 1), "{pop,markov,recent,frequent}")
        XCTAssertEqual(row.int(0, 2), report.users)
        XCTAssertEqual(row.int(0, 3), report.users)
    }

    /// An older model evaluated on newer data (its vocabulary lacks the new items) gives the same ranks
    /// as on its own data for targets it knows; unknown items never rank ahead of the target.
    func testModelOnDataWithNewItems() throws {
        let fixture = try WalkFixture()
        defer { fixture.remove() }
        var csv = "user_id,item_id,timestamp\n"
        for user in 0..<50 {
            csv += "new\(user),i\(user),5000\nnew\(user),i\(user + 1),5010\nnew\(user),fresh\(user % 5),5020\nnew\(user),i\(user + 2),5030\n"
        }
        try fixture.ingest(csv, name: "newer.csv")
        let histories = try HistoryLoader.load(from: fixture.db)
        let split = SequenceSplit(histories)
        // Validation NDCG@10 of the model on a split (as promotion ranks a serving model on newer data).
        func validation(_ split: SequenceSplit) throws -> (ndcg: Double, users: Int) {
            let ranker = try OfflineEvaluation.ranker(fixture.sasrec, on: split, db: fixture.db, batchSize: 64)
            return (Evaluator.evaluate(ranker, split.validationExamples, seen: .exclude).ndcg(at: 10), split.validationExamples.count)
        }
        let newer = try validation(split)
        XCTAssertEqual(newer.users, split.validationExamples.count)
        XCTAssertGreaterThan(split.vocabulary.count, fixture.sasrec.items)
        // Validation targets of the new users are fresh items the model cannot know: they score 0.
        let own = try validation(SequenceSplit(try HistoryLoader.load(from: fixture.db, upToBatch: 1)))
        XCTAssertEqual(own.ndcg, fixture.sasrec.valid.ndcg(at: 10)!, accuracy: 1e-6)
        XCTAssertEqual(newer.ndcg * Double(newer.users), own.ndcg * Double(own.users), accuracy: 1e-6)
    }

    func testPairedComparisonAgainstKnownValues() {
        // d = [1, 0, 2, 0, 2]: mean 1, sd 1, t = √5, df 4; p from integrating the t density numerically.
        let c = PairedComparison([1, 2, 3, 4, 5], [0, 2, 1, 4, 3], resamples: 2_000, seed: 3)
        XCTAssertEqual(c.meanDifference, 1, accuracy: 1e-12)
        XCTAssertEqual(c.t, 5.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(c.pValue, 0.0890093425, accuracy: 1e-7)
        XCTAssertGreaterThanOrEqual(c.ciLow, 0)  // the bootstrap mean of a non-negative sample
        XCTAssertLessThanOrEqual(c.ciHigh, 2)
        let same = PairedComparison([0.5, 0.1], [0.5, 0.1])
        XCTAssertEqual(same.pValue, 1)
    }

    /// Why a model loses to a baseline, from its validation curve: still rising at its last epoch, or past its peak.
    func testTheVerdictReadsTheTrainingCurve() {
        func curve(_ values: [Double]) -> [EpochRecord] {
            values.enumerated().map { i, v in
                EpochRecord(epoch: i + 1, loss: 1, valid: MetricSummary(hitRate: [10: v], ndcg: [10: v], mrr: v), seconds: 1, sequencesPerSecond: 1)
            }
        }
        XCTAssertTrue(ReportWriter.diagnosis(curve([0.1, 0.2, 0.3])).contains("still rising at its last epoch (3"))
        XCTAssertTrue(ReportWriter.diagnosis(curve([0.1, 0.4, 0.3, 0.2])).contains("peaked at epoch 2 of 4"))
        XCTAssertEqual(ReportWriter.diagnosis([]), "Its training curve is not recorded.")
    }
}
