import Foundation
import XCTest
import PleatCore
import PleatIngest
import PleatStorage
import PleatTestSupport
@testable import PleatTraining
import PleatModel
import PleatHistories

/// End to end: a synthetic log with planted sequential structure is ingested into the test PostgreSQL,
/// each model trains for a few epochs, beats the popularity baseline on validation NDCG@10 and is found
/// in the registry; a run killed with SIGKILL resumes to exactly the model of an uninterrupted run.
final class TrainingJobTests: XCTestCase {
    /// One ingested database shared by the tests of this class (read-only for them apart from `models`).
    /// Planted structure: each user walks forward through a catalogue of 100 items from a random start
    /// (item k is followed by item k+1), with 10% random detours; popularity cannot see the walk.
    static let data: (url: String, popularity: Double) = {
        let url = try! TestDatabase.fresh()
        let dir = try! TestDatabase.scratchDirectory()
        var rng = RandomSource(seed: 3)
        var csv = "user_id,item_id,timestamp\n"
        for user in 0..<300 {
            let start = rng.below(100)
            for t in 0..<30 {
                let item = rng.uniform() < 0.1 ? rng.below(100) : (start + t) % 100
                csv += "u\(user),i\(item),\(1_000 + 10 * t)\n"
            }
        }
        let file = dir.appendingPathComponent("walks.csv").path
        try! csv.write(toFile: file, atomically: true, encoding: .utf8)
        let db = try! PostgresConnection(url: url)
        _ = try! Ingestor(db: db).ingest(file: file, options: IngestOptions(format: .csv))
        let split = SequenceSplit(try! HistoryLoader.load(from: db))
        let popularity = Evaluator.evaluate(PopularityRanker(split: split), split.validationExamples, seen: .exclude).ndcg(at: 10)
        return (url, popularity)
    }()

    /// Small models that train in seconds in a debug build.
    static func config(_ kind: ModelKind, epochs: Int = 4) -> TrainingConfig {
        var c = TrainingConfig(model: kind)
        (c.epochs, c.patience, c.batchSize, c.maxLength, c.seed, c.learningRate) = (epochs, epochs, 32, 24, 7, 3e-3)
        for encoder in [\TrainingConfig.sasrec.encoder, \TrainingConfig.bert4rec.encoder] {
            (c[keyPath: encoder].dimension, c[keyPath: encoder].heads, c[keyPath: encoder].blocks, c[keyPath: encoder].dropout) = (32, 2, 1, 0.1)
        }
        (c.hstu.encoder.dimension, c.hstu.encoder.heads, c.hstu.encoder.blocks, c.hstu.encoder.dropout, c.hstu.negatives) = (32, 2, 1, 0.1, 64)
        return c
    }

    func testEachModelBeatsPopularityAndIsRegistered() throws {
        let db = try PostgresConnection(url: Self.data.url)
        let artifacts = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: artifacts) }
        for kind in ModelKind.allCases {
            var job = TrainingJob(config: Self.config(kind, epochs: kind == .bert4rec ? 10 : 4), artifacts: artifacts)
            (job.showProgress, job.log) = (false, { _ in })
            let result = try job.run(db: db)
            let valid = result.record.valid.ndcg(at: 10)!
            print("\(kind.rawValue): valid NDCG@10 \(valid) vs popularity \(Self.data.popularity), best epoch \(result.record.bestEpoch)")
            XCTAssertGreaterThan(valid, Self.data.popularity * 2, "\(kind) should clearly beat popularity on planted structure")
            let stored = try XCTUnwrap(try ModelRegistry(db).find(result.record.id))
            XCTAssertEqual(stored.kind, kind)
            XCTAssertEqual(stored.valid, result.record.valid)
            XCTAssertEqual(stored.artifactSHA256, try SHA256.hex(ofFile: URL(fileURLWithPath: stored.artifactPath).appendingPathComponent("model.safetensors")))
            let storedConfig = try JSONSerialization.jsonObject(with: Data(stored.config.utf8)) as? [String: Any]
            XCTAssertEqual(storedConfig?["model"] as? String, kind.rawValue)
            XCTAssertEqual((storedConfig?["sasrec"] as? [String: Any])?["loss"] as? String, "ce",
                           "the loss `auto` chose for a small catalogue, stored as what ran")
            XCTAssertGreaterThan(stored.snapshotBatch, 0)
            // 100 sampled negatives are a subset of the full ranking's candidates: never a worse rank.
            for distribution in ["uniform", "popularity"] {
                let sampled = try XCTUnwrap(stored.testSampled[distribution])
                XCTAssertGreaterThanOrEqual(sampled.hitRate(at: 10)!, stored.test.hitRate(at: 10)!, distribution)
                XCTAssertGreaterThanOrEqual(sampled.mrr, stored.test.mrr, distribution)
            }
        }
    }

    /// SASRec's sampled losses (the original BCE with one negative, gBCE with k negatives) learn the walk
    /// as well, straight from the in-memory split (no database in the loop).
    func testSASRecSampledLossesLearn() throws {
        let db = try PostgresConnection(url: Self.data.url)
        let split = SequenceSplit(try HistoryLoader.load(from: db))
        let dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let variants: [(SASRecSettings.Loss, SASRecSettings.Sampling)] =
            [(.bce, .uniform), (.gbce, .uniform), (.sampledSoftmax, .uniform), (.sampledSoftmax, .inBatch), (.sampledSoftmax, .mixed),
             (.sampledSoftmax, .uniformPerPosition)]
        for (loss, sampling) in variants {
            var config = Self.config(.sasrec, epochs: 4)
            (config.sasrec.loss, config.sasrec.sampling) = (loss, sampling)
            config.sasrec.negatives = loss == .sampledSoftmax ? 16 : 4  // 4% of the catalogue, gSASRec's 7.5% on ML-1M
            let name = "\(loss.rawValue)-\(sampling.rawValue)"
            let run = RunDirectory(dir.appendingPathComponent(name))
            let outcome = try Trainer(config: config, split: split, run: run, showProgress: false, log: { _ in }).train(modelId: "t")
            print("sasrec \(name): valid NDCG@10 \(outcome.valid.ndcg(at: 10)), losses \(outcome.state.history.map(\.loss))")
            XCTAssertGreaterThan(outcome.valid.ndcg(at: 10), Self.data.popularity * 2, name)
            XCTAssertLessThan(outcome.state.history.last!.loss, outcome.state.history.first!.loss, "\(name) loss falls")
        }
    }

    /// `position_weighted_steps` scales a step by its batch's share of the positions. Every user here has
    /// as many events, so 300 users in batches of 30 weigh exactly 1 and the run is bit-identical to one
    /// without it; in batches of 32 the last holds 12 users and weighs 0.4, so the weights move.
    func testPositionWeightedStepsWeighOnlyUnequalBatches() throws {
        let db = try PostgresConnection(url: Self.data.url)
        let split = SequenceSplit(try HistoryLoader.load(from: db))
        let dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func weights(batch: Int, weighted: Bool) throws -> String {
            var config = Self.config(.sasrec, epochs: 2)
            (config.batchSize, config.positionWeightedSteps) = (batch, weighted)
            let run = RunDirectory(dir.appendingPathComponent("b\(batch)-\(weighted)"))
            _ = try Trainer(config: config, split: split, run: run, showProgress: false, log: { _ in }).train(modelId: "w")
            return try SHA256.hex(ofFile: run.modelFile)
        }
        XCTAssertEqual(try weights(batch: 30, weighted: true), try weights(batch: 30, weighted: false), "equal batches weigh 1")
        XCTAssertNotEqual(try weights(batch: 32, weighted: true), try weights(batch: 32, weighted: false), "a short last batch weighs less")
    }

    /// Folded HSTU, SASRec and BERT4Rec run end to end and the registry keeps their fold settings; a key
    /// the data cannot give (categories without item metadata) stops before training with the reason.
    func testFoldedModelsTrainAndRecordTheirFolding() throws {
        let db = try PostgresConnection(url: Self.data.url)
        let artifacts = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: artifacts) }
        for model in ModelKind.allCases {
            // BERT4Rec learns a walk more slowly (its Cloze labels are a fifth of the positions).
            var config = Self.config(model, epochs: model == .bert4rec ? 10 : 2)
            config.maxLength = 8
            (config.fold.key, config.fold.groups, config.fold.groupLength, config.fold.timeWindowDays) = (.time, 4, 8, 0.001)
            var job = TrainingJob(config: config, artifacts: artifacts)
            (job.showProgress, job.log) = (false, { _ in })
            let result = try job.run(db: db)
            let stored = try XCTUnwrap(try ModelRegistry(db).find(result.record.id))
            let fold = (try JSONSerialization.jsonObject(with: Data(stored.config.utf8)) as? [String: Any])?["fold"] as? [String: Any]
            XCTAssertEqual(fold?["key"] as? String, "time")
            XCTAssertEqual(fold?["groups"] as? Int, 4)
            print("folded \(model): valid NDCG@10 \(stored.valid.ndcg(at: 10)!), popularity \(Self.data.popularity)")
            XCTAssertGreaterThan(stored.valid.ndcg(at: 10)!, Self.data.popularity, "folded \(model) still learns the walk")

            job.config.fold.key = .category
            XCTAssertThrowsError(try job.run(db: db)) { XCTAssertTrue("\($0)".contains("no item has a category"), "\($0)") }
        }
    }

    func testKilledRunResumesToTheModelOfAnUninterruptedRun() throws {
        let db = try PostgresConnection(url: Self.data.url)
        let artifacts = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: artifacts) }
        let config = try Self.config(.sasrec, epochs: 5).jsonData()
        let configFile = artifacts.appendingPathComponent("config.json")
        try config.write(to: configFile)

        func train(_ extra: [String], killWhen: ((URL) -> Bool)? = nil) throws -> [String: Any]? {
            try runPleatTrain(["--config", configFile.path] + extra, databaseURL: Self.data.url, artifacts: artifacts, killWhen: killWhen)
        }

        // Kill -9 during epoch 3, after two checkpoints.
        _ = try train([]) { run in
            let state = run.appendingPathComponent("checkpoint/state.json")
            guard let s = try? JSONDecoder().decode(TrainingState.self, from: Data(contentsOf: state)) else { return false }
            return s.epochsDone >= 2
        }
        XCTAssertEqual(try ModelRegistry(db).list().filter { $0.epochs == 5 && $0.kind == .sasrec }.count, 0,
                       "a killed run registers nothing")
        let resumed = try XCTUnwrap(try train(["--resume"]))
        let fresh = try XCTUnwrap(try train([]))
        XCTAssertEqual(resumed["epochs"] as? Int, 5)
        XCTAssertNotEqual(resumed["model_id"] as? String, fresh["model_id"] as? String)
        let resumedTest = try XCTUnwrap(resumed["test"] as? [String: Double]), freshTest = try XCTUnwrap(fresh["test"] as? [String: Double])
        XCTAssertEqual(resumedTest["ndcg@10"], freshTest["ndcg@10"], "resuming repeats the uninterrupted run")
        XCTAssertEqual(resumed["artifact_sha256"] as? String, fresh["artifact_sha256"] as? String, "bit-identical weights")
        XCTAssertNotNil(try ModelRegistry(db).find(resumed["model_id"] as! String))
    }

    func testConfigLayersAndClearErrors() throws {
        let dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("train.conf")
        try "epochs = 7   # a comment\nsasrec.loss = gbce\nhstu.encoder.dropout = 0.3\n".write(to: file, atomically: true, encoding: .utf8)
        let c = try TrainingConfig.resolve(model: .hstu, file: file, overrides: ["epochs=9", "hstu.encoder.dimension=48"])
        XCTAssertEqual(c.model, .hstu)
        XCTAssertEqual(c.epochs, 9, "--set wins over the file")
        XCTAssertEqual(c.sasrec.loss, .gbce, "a file may hold the settings of several models")
        XCTAssertEqual(c.hstu.encoder.dropout, 0.3)
        XCTAssertEqual(c.hstu.encoder.dimension, 48)
        // --set of another model's section would change nothing: an error that names both fixes.
        XCTAssertThrowsError(try TrainingConfig.resolve(model: .sasrec, file: nil, overrides: ["hstu.temperature=0.1"])) {
            XCTAssertTrue("\($0)".contains("--set hstu.temperature: a hstu setting, but this run trains model = sasrec (use sasrec.temperature, or --model hstu)"),
                          "\($0)")
        }
        XCTAssertEqual(c.patience, TrainingConfig().patience, "untouched keys keep their defaults")

        func message(_ overrides: [String], file: URL? = nil) -> String {
            do { _ = try TrainingConfig.resolve(model: nil, file: file, overrides: overrides); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(["epoch=3"]).contains("unknown config key 'epoch'"))
        XCTAssertTrue(message(["sasrec.loss=hinge"]).contains("sasrec.loss"))
        XCTAssertTrue(message(["epochs=many"]).contains("epochs"))
        XCTAssertTrue(message(["sasrec=3"]).contains("is a section"))
        XCTAssertTrue(message(["epochs=null"]).contains("config key epochs"), message(["epochs=null"]))
        XCTAssertEqual(try TrainingConfig.resolve(model: nil, file: nil, overrides: ["seed=18446744073709551615"]).seed, UInt64.max,
                       "a 64-bit seed is not rounded through a double")
        XCTAssertEqual(try TrainingConfig.resolve(model: nil, file: nil, overrides: ["learning_rate=0.0003"]).learningRate, 0.0003)
        XCTAssertEqual(try TrainingConfig.resolve(model: nil, file: nil, overrides: ["cutoff=2024-02-01"]).cutoff, "2024-02-01")
        // A JSON file merges sections key by key; a stored config reads back equal.
        try #"{"epochs": 5, "sasrec": {"encoder": {"heads": 4}}}"#.write(to: file, atomically: true, encoding: .utf8)
        let merged = try TrainingConfig.resolve(model: nil, file: file, overrides: [])
        XCTAssertEqual([merged.epochs, merged.sasrec.encoder.heads, merged.sasrec.encoder.dimension],
                       [5, 4, TrainingConfig().sasrec.encoder.dimension])
        XCTAssertEqual(try TrainingConfig.stored(String(decoding: try c.jsonData(), as: UTF8.self), source: "test"), c)
        XCTAssertTrue(message([], file: { try? "{ not json".write(to: file, atomically: true, encoding: .utf8); return file }()).contains("not a JSON object"))
        XCTAssertEqual(try TrainingConfig.resolve(model: nil, file: nil, overrides: ["shard=1/4"]).shard, try Shard(index: 1, count: 4))
        XCTAssertEqual(c.shard, .all, "every user by default")
        XCTAssertTrue(message(["shard=4/4"]).contains("shard"), message(["shard=4/4"]))
        // Attention to padding exists for the original block only, and only in SASRec's causal windows.
        func invalid(_ overrides: [String]) -> String {
            do { try TrainingConfig.resolve(model: nil, file: nil, overrides: overrides).validate(); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(invalid(["sasrec.encoder.attend_padding=true"]).contains("sasrec.encoder.attend_padding"))
        XCTAssertEqual(invalid(["sasrec.encoder.attend_padding=true", "sasrec.encoder.block=sasrec"]), "")
        XCTAssertTrue(invalid(["bert4rec.encoder.attend_padding=true", "bert4rec.encoder.block=sasrec"]).contains("bert4rec.encoder.attend_padding"))
        // Interleaved behaviour tokens: causal models, unfolded; the query's behaviour is a key of its own.
        XCTAssertEqual(invalid(["behaviour.input=interleaved", "behaviour.query_event=buy"]), "")
        XCTAssertTrue(invalid(["model=bert4rec", "behaviour.input=interleaved"]).contains("causal models"))
        XCTAssertTrue(invalid(["behaviour.input=interleaved", "fold.key=category"]).contains("does not fold"))
        XCTAssertTrue(invalid(["behaviour.input=embedding", "behaviour.predict_behaviour=true"]).contains("needs behaviour.input = interleaved"))
        XCTAssertEqual(invalid(["behaviour.input=interleaved", "behaviour.predict_behaviour=true"]), "")
        try "epochs = 3\nbogus = 1\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertTrue(message([], file: file).contains("train.conf:2"))
        var bad = TrainingConfig()
        bad.split = .time
        XCTAssertThrowsError(try bad.validate())
        bad.cutoff = "next tuesday"
        XCTAssertThrowsError(try bad.validate())
        bad.cutoff = "2024-02-01"
        XCTAssertEqual(try bad.cutoffSeconds(), 1_706_745_600)

        // Schedules: warm-up, then held or decayed to 0 at the last step of `epochs`.
        let scheduled = try TrainingConfig.resolve(model: .sasrec, file: nil, overrides: ["epochs=2", "warmup_steps=4", "lr_decay=linear"])
        let rates = (1...20).map { scheduled.schedule(stepsPerEpoch: 10).rate(step: $0) }
        XCTAssertEqual(rates[1], 5e-4, accuracy: 1e-9, "half way through the warm-up")
        XCTAssertEqual(rates[19], 0, accuracy: 1e-9, "0 at the last step")
        XCTAssertTrue(zip(rates[4...], rates[5...]).allSatisfy { $0 > $1 }, "decays after the warm-up")
        XCTAssertTrue(message(["lr_decay=step"]).contains("lr_decay"))
        XCTAssertEqual(TrainingConfig().schedule(stepsPerEpoch: 10).rate(step: 7), 1e-3, "constant by default")

        XCTAssertEqual(TrainingConfig().sasrec.loss, .auto)
        XCTAssertEqual(SASRecSettings.Loss.auto.resolved(items: 20_000), .ce)
        XCTAssertEqual(SASRecSettings.Loss.auto.resolved(items: 20_001), .sampledSoftmax)
        XCTAssertEqual(SASRecSettings.Loss.bce.resolved(items: 1_000_000), .bce, "a loss that was asked for stays")

        // A spec stored before a key existed reads with the behaviour it was trained with.
        let old = try JSONDecoder.snakeCase.decode(SASRecSettings.self, from: Data(#"{"encoder": {"items": 5, "dimension": 8, "heads": 2, "blocks": 1, "ffn_multiplier": 4, "dropout": 0.1, "max_length": 20, "layer_norm_epsilon": 1e-12}, "loss": "ce", "negatives": 256, "gbce_t": 0.75}"#.utf8))
        XCTAssertEqual(old.encoder.block, .postNorm)
        XCTAssertEqual(old.sampling, .uniform)
        XCTAssertEqual(old.encoder.dimension, 8)
    }
}
