import Foundation
import XCTest
import PleatCore
import PleatIngest
import PleatScoring
import PleatStorage
import PleatTestSupport
import PleatTraining

/// `pleat score` writes any model's lists but serves only a promoted model's, unless --force (recorded).
final class ScorePromotionTests: XCTestCase {
    func testScoreServesOnlyPromotedModelsWithoutForce() throws {
        let fixture = try PipelineFixture()
        defer { fixture.remove() }
        _ = try Ingestor(db: fixture.db).ingest(file: fixture.directory.appendingPathComponent("walks.csv").path, options: IngestOptions(format: .csv))
        func train(epochs: Int, learningRate: Float) throws -> String {
            var c = TrainingConfig(model: .sasrec)
            (c.epochs, c.patience, c.batchSize, c.maxLength, c.seed, c.learningRate) = (epochs, epochs, 32, 24, 7, learningRate)
            (c.sasrec.encoder.dimension, c.sasrec.encoder.blocks) = (32, 1)
            var job = TrainingJob(config: c, artifacts: fixture.home.url.appendingPathComponent("models"))
            (job.showProgress, job.log) = (false, { _ in })
            return try job.run(db: fixture.db).record.id
        }
        let (good, untrained) = (try train(epochs: 3, learningRate: 3e-3), try train(epochs: 1, learningRate: 1e-7))
        func score(_ arguments: [String]) throws -> (json: [String: Any], output: String) {
            let (process, output) = try fixture.launch(["score", "--top-k", "20", "--json"] + arguments)
            process.waitUntilExit()
            let text = try String(contentsOf: output, encoding: .utf8)
            XCTAssertEqual(process.terminationStatus, 0, text)
            let line = text.split(separator: "\n").last.map(String.init) ?? ""
            return ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:], text)
        }
        let cache = try RecommendationCache(path: RecommendationCache.defaultPath(home: fixture.home))

        // Beats the most-popular baseline on the held-out users: promoted, served.
        var (json, output) = try score(["--model", good, "--baselines", "pop"])
        XCTAssertEqual(json["activated"] as? Bool, true, output)
        XCTAssertEqual((json["promotion"] as? [String: Any])?["promoted"] as? Bool, true, output)
        XCTAssertEqual(try cache.activeSet()?.modelId, good)

        // The untrained model does not beat item transitions: its lists are written, not served.
        (json, output) = try score(["--model", untrained, "--baselines", "markov"])
        XCTAssertEqual(json["activated"] as? Bool, false, output)
        XCTAssertTrue(output.contains("not promoted") && output.contains("\(good) stays the serving model"), output)
        XCTAssertEqual(try cache.activeSet()?.modelId, good)
        XCTAssertEqual(json["users"] as? Int, 200, "scored all the same")

        // --force serves it, and says so on record.
        (json, output) = try score(["--model", untrained, "--baselines", "markov", "--force"])
        XCTAssertEqual(json["activated"] as? Bool, true, output)
        XCTAssertEqual(try cache.activeSet()?.modelId, untrained)
        let decisions = try PromotionLog(fixture.db).decisions(modelId: untrained)
        XCTAssertEqual(decisions.map(\.forced), [true, false])
        XCTAssertEqual(decisions.map(\.promoted), [false, false])
        XCTAssertEqual(decisions.first?.servingModelId, good)

        // Rescoring the serving model needs no decision.
        (json, output) = try score(["--model", untrained])
        XCTAssertEqual(json["activated"] as? Bool, true, output)
        XCTAssertNil(json["promotion"], output)
    }
}
