import Foundation
import XCTest
import PleatCore
import PleatEvaluation
import PleatHistories
import PleatIngest
import PleatModel
import PleatPipeline
import PleatScoring
import PleatStorage
import PleatTestSupport
import PleatTraining

final class JobTests: XCTestCase {
    /// A job over walks.csv training one small SASRec, promoted when significantly better than the
    /// most-popular baseline (on walks the item-transition baseline is near perfect, which three epochs
    /// of SASRec do not pass) and within `maxDrop` of the serving model.
    /// `training`: the job's `training:` section; by default every night retrains in full, so that the
    /// promotion tests see the model the settings give.
    private func writeJob(_ fixture: PipelineFixture, epochs: Int = 3, learningRate: Double = 0.003, maxDrop: Double = 0.01,
                          training: String = "{warm_start: false}", warmSettings: String = "") throws -> String {
        try fixture.write("walks.yaml", """
            name: walks
            sources:
              - path: walks.csv
                format: csv
            \(PipelineFixture.models(["sasrec"], epochs: epochs, learningRate: learningRate))\(warmSettings)
            scoring: {top_k: 20}
            evaluation: {enabled: false}

            """)
        return try fixture.write("nightly.yaml", """
            pipeline: walks.yaml
            schedule: "0 3 * * *"
            retry: {attempts: 1, delay_seconds: 0}
            promotion: {max_drop: \(maxDrop), baselines: [pop]}
            training: \(training)

            """)
    }

    private func run(_ file: String, _ fixture: PipelineFixture) throws -> JobRunner.Outcome {
        var runner = JobRunner(try JobDefinition.load(file), home: fixture.home)
        (runner.log, runner.pipeline.log, runner.pipeline.showProgress) = ({ _ in }, { _ in }, false)
        return try runner.run(db: fixture.db, databaseURL: fixture.url)
    }

    private func statuses(_ fixture: PipelineFixture) throws -> [JobRunLog.Run] {
        try JobRunLog(fixture.db).recent(job: "nightly").reversed()
    }

    /// First run promotes; with no new data the next trains nothing; after new data a worse model is
    /// trained but the serving one is kept, with the reason.
    func testWorseModelIsNotPromoted() throws {
        let fixture = try PipelineFixture()
        defer { fixture.remove() }
        let job = try writeJob(fixture)
        let first = try run(job, fixture)
        XCTAssertEqual(first.status, .succeeded)
        let served = try XCTUnwrap(first.promoted, first.message)
        let decision = try XCTUnwrap(first.promotion)
        XCTAssertNil(decision.serving, "no model was serving")
        XCTAssertEqual(decision.bestBaseline, "pop")
        XCTAssertLessThan(decision.versusBestBaseline.pValue, 0.05)
        XCTAssertGreaterThan(decision.candidateNdcg10, decision.baselineNdcg10)

        let idle = try run(job, fixture)
        XCTAssertEqual(idle.status, .skipped)
        XCTAssertTrue(idle.message.contains("no new data since \(served)"), idle.message)
        XCTAssertEqual(idle.models, [])

        // New users arrive; the job now trains a model that cannot learn (learning rate 1e-7).
        let newer = fixture.directory.appendingPathComponent("newer.csv").path
        try PipelineFixture.walks(users: 200..<260, start: 9_000, seed: 9).write(toFile: newer, atomically: true, encoding: .utf8)
        _ = try Ingestor(db: fixture.db).ingest(file: newer, options: IngestOptions(format: .csv))
        let worse = try writeJob(fixture, epochs: 1, learningRate: 1e-7)
        let third = try run(worse, fixture)
        XCTAssertEqual(third.status, .succeeded)
        XCTAssertEqual(third.models.count, 1)
        XCTAssertNil(third.promoted)
        XCTAssertTrue(third.message.hasPrefix("kept \(served): \(third.models[0]) is not promoted: "), third.message)
        let rejected = try XCTUnwrap(third.promotion)
        XCTAssertEqual(rejected.serving, served)
        XCTAssertTrue(rejected.reason.contains("worse than the serving model \(served)"), rejected.reason)
        XCTAssertGreaterThan(try XCTUnwrap(rejected.servingNdcg10) - rejected.candidateNdcg10, 0.01)
        XCTAssertEqual(rejected.users, try HistoryLoader.load(from: fixture.db).userCount, "every user's held-out last event")
        let cache = try RecommendationCache(path: RecommendationCache.defaultPath(home: fixture.home))
        XCTAssertEqual(try cache.activeSet()?.modelId, served, "the serving model did not change")

        // A model as good as the serving one (the same settings on the new data) is promoted.
        let fourthData = fixture.directory.appendingPathComponent("newest.csv").path
        try PipelineFixture.walks(users: 260..<270, start: 19_000, seed: 11).write(toFile: fourthData, atomically: true, encoding: .utf8)
        _ = try Ingestor(db: fixture.db).ingest(file: fourthData, options: IngestOptions(format: .csv))
        let fourth = try run(try writeJob(fixture, maxDrop: 0.05), fixture)
        XCTAssertEqual(fourth.promoted, fourth.models.first, fourth.message)
        XCTAssertEqual(try cache.activeSet()?.modelId, fourth.promoted)
        XCTAssertEqual(try statuses(fixture).map(\.status), [.succeeded, .skipped, .succeeded, .succeeded])
        XCTAssertEqual(try statuses(fixture).map(\.promoted), [served, nil, nil, fourth.promoted])
        // Each decision is on record, in the run and in `promotions`.
        XCTAssertEqual(try statuses(fixture).map { $0.promotion != nil }, [true, false, true, true])
        XCTAssertEqual(try PromotionLog(fixture.db).decisions(modelId: third.models[0]).map(\.promoted), [false])
    }

    /// Warm start by default, from the serving model; a full retrain when the last one is too old, and at
    /// once after a warm start whose validation NDCG@10 fell more than `max_valid_drop` below it.
    func testTheNightlyJobWarmStartsOrRetrainsByItsRule() throws {
        let fixture = try PipelineFixture()
        defer { fixture.remove() }
        var day = 0
        /// A day of 20 new users' walks, or (`newItems`) of 150 new users walking 100 items never seen before.
        func newDay(newItems: Bool = false) throws {
            day += 1
            let file = fixture.directory.appendingPathComponent("day\(day).csv").path
            let users = newItems ? 1_000..<1_150 : (200 + 20 * day)..<(220 + 20 * day)
            let walks = PipelineFixture.walks(users: users, start: 10_000 * (day + 1), seed: UInt64(20 + day))
            try (newItems ? walks.replacingOccurrences(of: ",i([0-9])", with: ",j$1", options: .regularExpression) : walks).write(toFile: file, atomically: true, encoding: .utf8)
            _ = try Ingestor(db: fixture.db).ingest(file: file, options: IngestOptions(format: .csv))
        }
        let registry = ModelRegistry(fixture.db)
        let rule = "{warm_start: true, full_retrain_days: 7, max_valid_drop: 0.05}"

        let first = try run(try writeJob(fixture, maxDrop: 0.05, training: rule), fixture)
        XCTAssertEqual(first.training.map(\.parent), [nil])
        XCTAssertTrue(first.training[0].reason.contains("no sasrec model has been trained from scratch yet"), first.training[0].reason)
        let served = try XCTUnwrap(first.promoted, first.message)

        try newDay()
        let second = try run(try writeJob(fixture, maxDrop: 0.05, training: rule), fixture)
        XCTAssertEqual(second.training.map(\.parent), [served], second.message)
        XCTAssertTrue(second.message.hasSuffix("(sasrec: warm start from \(served) (serving))"), second.message)
        XCTAssertEqual(try registry.find(second.models[0])?.parentId, served)
        let warm = try XCTUnwrap(try registry.find(second.models[0]))
        XCTAssertEqual(try TrainingConfig.stored(warm.config, source: "test").epochLimit, 10, "warm_start.epochs, not the pipeline's")
        XCTAssertLessThanOrEqual(warm.epochs, 10)

        try newDay()
        let old = try run(try writeJob(fixture, maxDrop: 0.05, training: "{full_retrain_days: 0}"), fixture)
        XCTAssertEqual(old.training.map(\.parent), [nil])
        XCTAssertTrue(old.training[0].reason.contains("days old, full_retrain_days is 0"), old.training[0].reason)
        XCTAssertNil(try registry.find(old.models[0])?.parentId)

        // A day of new users on new items, and a warm start that barely moves (validation then finds their
        // targets unknown to it): a full retrain follows in the same run.
        try newDay(newItems: true)
        let drifted = try run(try writeJob(fixture, maxDrop: 0.05, training: rule, warmSettings: "      warm_start.learning_rate: 1.0e-9\n"), fixture)
        XCTAssertEqual(drifted.training.map(\.parent), [nil])
        XCTAssertTrue(drifted.training[0].reason.hasPrefix("full retrain: the warm start sasrec-"), drifted.training[0].reason)
        XCTAssertTrue(drifted.training[0].reason.contains("more than max_valid_drop 0.05 below the last full retrain \(old.models[0])"),
                      drifted.training[0].reason)
        let trained = try XCTUnwrap(try registry.find(drifted.models[0]))
        XCTAssertNil(trained.parentId, "the run's model is the full retrain")
        XCTAssertEqual(try registry.list().filter { $0.parentId != nil }.count, 2, "both warm starts are registered")
    }

    /// Two `pleat jobs run` at once: one runs, the other records itself as skipped and exits 0.
    func testConcurrentRunsDoNotOverlap() throws {
        let fixture = try PipelineFixture()
        defer { fixture.remove() }
        let job = try writeJob(fixture, epochs: 60)
        let a = try fixture.launch(["jobs", "run", job, "--json"])
        // The second starts once the first is under way (its run is recorded), so they surely overlap.
        let deadline = Date().addingTimeInterval(60)
        while try a.process.isRunning && Date() < deadline && statuses(fixture).isEmpty { Thread.sleep(forTimeInterval: 0.01) }
        let b = try fixture.launch(["jobs", "run", job, "--json"])
        a.process.waitUntilExit()
        b.process.waitUntilExit()
        let logs = try String(contentsOf: a.output, encoding: .utf8) + String(contentsOf: b.output, encoding: .utf8)
        XCTAssertEqual([a.process.terminationStatus, b.process.terminationStatus], [0, 0], logs)
        let runs = try statuses(fixture)
        XCTAssertEqual(runs.map(\.status).sorted { $0.rawValue < $1.rawValue }, [.skipped, .succeeded])
        let skipped = runs.first { $0.status == .skipped }!, succeeded = runs.first { $0.status == .succeeded }!
        XCTAssertTrue(skipped.message!.hasPrefix("another run of nightly is in progress (run \(succeeded.id), pid"), skipped.message!)
        XCTAssertEqual(succeeded.models.count, 1)
        // Only one of them trained.
        XCTAssertEqual(try fixture.db.query("SELECT count(*) FROM models").int(0, 0), 1)
    }

    /// A run killed mid-training is recorded as failed by the next run, which succeeds.
    func testKilledRunIsRecordedFailedAndTheNextSucceeds() throws {
        let fixture = try PipelineFixture()
        defer { fixture.remove() }
        let job = try writeJob(fixture, epochs: 400)
        let (process, output) = try fixture.launch(["jobs", "run", job])
        let checkpoints = fixture.home.url.appendingPathComponent("models")
        let deadline = Date().addingTimeInterval(120)
        func training() -> Bool {
            guard let run = try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path).first else { return false }
            return FileManager.default.fileExists(atPath: checkpoints.appendingPathComponent(run).appendingPathComponent("checkpoint/state.json").path)
        }
        while process.isRunning && Date() < deadline && !training() { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertTrue(process.isRunning, "the run ended before it could be killed: " + ((try? String(contentsOf: output, encoding: .utf8)) ?? ""))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(try statuses(fixture).map(\.status), [.running], "a killed process cannot record its end")

        let next = try run(try writeJob(fixture, epochs: 2), fixture)
        XCTAssertEqual(next.status, .succeeded)
        let runs = try statuses(fixture)
        XCTAssertEqual(runs.map(\.status), [.failed, .succeeded])
        XCTAssertTrue(runs[0].error!.hasPrefix("interrupted: process \(process.processIdentifier) ended before the run finished"), runs[0].error!)
        XCTAssertEqual(runs[0].models, [])
        XCTAssertEqual(runs[1].promoted, next.promoted)
        XCTAssertNotNil(next.promoted)
    }

    func testJobFileErrors() throws {
        let fixture = try PipelineFixture()
        defer { fixture.remove() }
        _ = try writeJob(fixture)
        let file = try fixture.write("broken.yaml", """
            pipeline: missing.yaml
            schedule: "every night"
            retry: {attempts: 0}
            promote: {max_drop: 0.1}

            """)
        XCTAssertThrowsError(try JobDefinition.load(file)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("broken.yaml:1: pipeline: file not found"), text)
            XCTAssertTrue(text.contains("broken.yaml:2: schedule: 'every night' is not a cron schedule"), text)
            XCTAssertTrue(text.contains("broken.yaml:3: retry.attempts: expected a whole number from 1 to 20"), text)
            XCTAssertTrue(text.contains("broken.yaml:4: promote: unknown key"), text)
        }
        let training = try fixture.write("training.yaml", """
            pipeline: walks.yaml
            schedule: "0 3 * * *"
            training: {warm_start: maybe, full_retrain_days: -1}

            """)
        XCTAssertThrowsError(try JobDefinition.load(training)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("training.yaml:3: training.warm_start: expected true or false, got 'maybe'"), text)
            XCTAssertTrue(text.contains("training.yaml:3: training.full_retrain_days: expected a number from 0.0 to 3650.0, got '-1'"), text)
        }
    }
}
