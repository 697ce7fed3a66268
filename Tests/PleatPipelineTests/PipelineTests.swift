import Foundation
import XCTest
import PleatCore
import PleatEvaluation
import PleatPipeline
import PleatScoring
import PleatStorage
import PleatTestSupport
import PleatTraining

final class PipelineTests: XCTestCase {
    /// Every mistake is listed with file, line, key and reason, and nothing runs.
    func testPipelineWithErrorsIsRejectedBeforeAnyWork() throws {
        let fixture = try PipelineFixture()
        defer { fixture.remove() }
        let file = try fixture.write("bad.yaml", """
            name: bad
            sources:
              - path: walks.csv
                format: csv
                columns: {user: user_id, itme: item_id}
              - path: nowhere.csv
                format: parquet
            models:
              - model: sasrec
                settings:
                  epochs: ten
                  sasrec.encoder.dimenson: 32
                  seen: include
              - model: gru4rec
            scoring: {top_k: 0, include_seen: true}
            evaluation: {baselines: [pop, knn]}
            schedule: daily
            seen: sometimes

            """)
        XCTAssertThrowsError(try PipelineDefinition.load(file)) { error in
            let problems = (error as! DefinitionError).problems.map { "\($0.line ?? 0) \($0.key): \($0.reason)" }
            let expected = [
                "5 sources[0].columns.itme: unknown key",
                "6 sources[1].path: file not found",
                "7 sources[1].format: 'parquet' is not one of: csv, tsv, jsonl",
                "11 models[0].settings.epochs: invalid value",
                "12 models[0].settings.sasrec.encoder.dimenson: unknown config key",
                "13 models[0].settings.seen: set seen at the top of the pipeline",
                "14 models[1].model: 'gru4rec' is not one of: sasrec, bert4rec, hstu",
                "15 scoring.include_seen: replaced by the top-level key seen",
                "15 scoring.top_k: expected a whole number from 1",
                "16 evaluation.baselines[1]: 'knn' is not one of: pop, markov, recent, frequent",
                "17 schedule: unknown key",
                "18 seen: 'sometimes' is not one of: exclude, include",
            ]
            XCTAssertEqual(problems.count, expected.count, problems.joined(separator: "\n"))
            for (problem, prefix) in zip(problems, expected) { XCTAssertTrue(problem.hasPrefix(prefix), "\(problem) does not start with \(prefix)") }
            XCTAssertTrue("\(error)".contains("\(file):5: sources[0].columns.itme"))
        }
        // The command exits 2 with the same list, and the database is untouched.
        let (process, output) = try fixture.launch(["run", file])
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 2)
        XCTAssertTrue(try String(contentsOf: output, encoding: .utf8).contains("bad.yaml:17: schedule: unknown key"))
        XCTAssertEqual(try fixture.db.query("SELECT count(*) FROM ingest_batches").int(0, 0), 0)
    }

    /// ingest -> train -> score -> evaluate from one file.
    func testPipelineRunsEndToEnd() throws {
        let fixture = try PipelineFixture()
        defer { fixture.remove() }
        let file = try fixture.write("walks.yaml", """
            name: walks
            sources:
              - path: walks.csv
                format: csv
            \(PipelineFixture.models(["sasrec", "hstu"], epochs: 3))
            scoring: {model: best, top_k: 20}
            evaluation: {baselines: [pop, markov]}
            promotion: {baselines: [pop]}

            """)
        var runner = PipelineRunner(try PipelineDefinition.load(file), home: fixture.home)
        (runner.showProgress, runner.log) = (false, { _ in })
        let result = try runner.run(db: fixture.db)

        XCTAssertEqual(result.ingested.map(\.rowsLoaded), [4_000])
        XCTAssertEqual(result.models.map(\.kind), ["sasrec", "hstu"])
        let best = result.models.max { ($0.valid.ndcg(at: 10) ?? 0) < ($1.valid.ndcg(at: 10) ?? 0) }!
        XCTAssertEqual(result.scored?.modelId, best.id)
        XCTAssertEqual(result.scored?.users, 200)
        XCTAssertEqual(try RecommendationCache(path: runner.cachePath).activeSet()?.modelId, best.id)
        let promotion = try XCTUnwrap(result.promotion)
        XCTAssertTrue(promotion.promoted && promotion.bestBaseline == "pop" && promotion.serving == nil, promotion.reason)
        let report = try XCTUnwrap(result.evaluation)
        XCTAssertEqual(report.rankers.map(\.name), ["pop", "markov"] + result.models.map(\.id))
        for model in result.models { XCTAssertEqual(report.ranker(model.id)!.metrics.ndcg(at: 10)!, model.test.ndcg(at: 10)!, accuracy: 1e-6) }
        // One report directory per run under reports/<pipeline>, the newest linked as latest.
        let reports = fixture.home.url.appendingPathComponent("reports/walks")
        let reportDirectory = URL(fileURLWithPath: try XCTUnwrap(result.reportDirectory))
        XCTAssertEqual(reportDirectory.deletingLastPathComponent().path, reports.path)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: reports.appendingPathComponent("latest").path),
                       reportDirectory.lastPathComponent)
        for name in ["report.html", "summary.md", "metrics.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: reports.appendingPathComponent("latest/\(name)").path), name)
        }
        XCTAssertEqual(try fixture.db.query("SELECT count(*) FROM evaluation_runs").int(0, 0), 1)
    }

    /// A pipeline evaluates before it activates: a model that does not beat the best baseline is scored
    /// but not served, whoever asks, until `force` serves it; both decisions are recorded.
    func testAModelThatFailsPromotionIsNotServedWithoutForce() throws {
        let fixture = try PipelineFixture()
        defer { fixture.remove() }
        let file = try fixture.write("untrained.yaml", """
            name: untrained
            sources:
              - path: walks.csv
                format: csv
            \(PipelineFixture.models(["sasrec"], epochs: 1, learningRate: 1e-7))
            scoring: {top_k: 20}
            evaluation: {baselines: [pop, markov], report: reports/untrained}

            """)
        var runner = PipelineRunner(try PipelineDefinition.load(file), home: fixture.home)
        (runner.showProgress, runner.log) = (false, { _ in })
        let result = try runner.run(db: fixture.db)
        let model = try XCTUnwrap(result.models.first).id
        let decision = try XCTUnwrap(result.promotion)
        XCTAssertFalse(decision.promoted || decision.forced)
        XCTAssertTrue(decision.reason.hasPrefix("not significantly better than the best baseline, markov"), decision.reason)
        XCTAssertEqual(result.evaluation?.ranker(model)?.metrics.ndcg(at: 10) ?? -1, decision.candidateNdcg10, accuracy: 1e-9,
                       "decided on the evaluation's held-out users, under its rule")
        XCTAssertEqual(result.scored?.activated, false)
        // The report says so too.
        let reportDirectory = try XCTUnwrap(result.reportDirectory)
        XCTAssertTrue(try String(contentsOfFile: reportDirectory + "/summary.md", encoding: .utf8).contains("Not promoted; not served"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: reportDirectory + "/promotion.json"))
        let cache = try RecommendationCache(path: runner.cachePath)
        XCTAssertNil(try cache.activeSet(), "nothing serves")

        runner.force = true
        let forced = try XCTUnwrap(try runner.run(db: fixture.db).promotion)
        XCTAssertTrue(forced.forced && !forced.promoted)
        XCTAssertEqual(try cache.activeSet()?.modelId, forced.candidate)
        XCTAssertEqual(try PromotionLog(fixture.db).decisions(modelId: forced.candidate).first?.forced, true, "the forced activation is on record")
    }
}
