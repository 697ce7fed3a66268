import Foundation
import XCTest
import PleatCore
import PleatModel
import PleatHistories
import PleatStorage
import PleatTestSupport
@testable import PleatTraining

/// `refit`: after validation has chosen the epochs, the model is trained again on the validation events
/// too, and that model is the run's.
final class RefitTests: XCTestCase {
    /// Planted so that the test targets can be learned from the validation events and from nothing
    /// else. Pairs i of items cue c_i → answer a_i → next n_i:
    /// - "primary" users: random fillers, c_i, a_i, n_i (validation a_i, test n_i);
    /// - "teacher" users: fillers, c_i, a_i, fillers: c_i → a_i is a training transition, so validation
    ///   improves as training goes on and the chosen epoch is a real one;
    /// - "bridge" users: fillers, a_i, n_i, filler: a_i → n_i is a validation transition only.
    /// A primary user's test transition a_i → n_i is in no training sequence of the first pass.
    static func plantedSplit(pairs: Int = 24, usersPerRole: Int = 4, seed: UInt64 = 3) -> SequenceSplit {
        var rng = RandomSource(seed: seed)
        let fillers = (0..<24).map { Int32(1000 + $0) }
        func filler() -> Int32 { fillers[Int(rng.next() % UInt64(fillers.count))] }
        var h = InteractionHistories(), user: Int32 = 0
        for i in 0..<Int32(pairs) {
            let (cue, answer, next) = (100 + i, 200 + i, 300 + i)
            for _ in 0..<usersPerRole {
                for items in [[filler(), filler(), cue, answer, next], [filler(), cue, answer, filler(), filler()],
                              [filler(), filler(), answer, next, filler()]] {
                    user += 1
                    for (t, item) in items.enumerated() { h.append(user: user, item: item, time: Int64(t)) }
                }
            }
        }
        h.finish()
        return SequenceSplit(h)
    }

    static func config(refit: Bool) -> TrainingConfig {
        var c = TrainingJobTests.config(.sasrec, epochs: 8)
        (c.maxLength, c.batchSize, c.learningRate, c.refit) = (8, 16, 1e-2, refit)
        c.sasrec.encoder.dropout = 0
        return c
    }

    func testTheRefitModelLearnsWhatOnlyTheValidationEventsTeach() throws {
        let split = Self.plantedSplit(), dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var outcomes: [Bool: TrainingOutcome] = [:]
        for refit in [false, true] {
            let trainer = Trainer(config: Self.config(refit: refit), split: split, run: RunDirectory(dir.appendingPathComponent("refit-\(refit)")),
                                  showProgress: false, log: { _ in })
            outcomes[refit] = try trainer.train(modelId: "refit-\(refit)")
        }
        let plain = try XCTUnwrap(outcomes[false]), refitted = try XCTUnwrap(outcomes[true])
        let chance = 10.0 / Double(split.vocabulary.count)
        print(String(format: "best epoch %d; valid NDCG@10 %.3f; test HR@10 %.3f without refit, %.3f with (chance about %.3f)",
                     plain.state.bestEpoch, plain.valid.ndcg(at: 10), plain.test.hitRate(at: 10), refitted.test.hitRate(at: 10), chance))
        XCTAssertGreaterThan(plain.state.bestEpoch, 1, "validation improves: the chosen epoch is not the first")
        // The selection pass is the same run either way; only the refit pass adds to it.
        XCTAssertEqual(refitted.state.history.selection.map(\.loss), plain.state.history.map(\.loss))
        XCTAssertEqual(refitted.state.history.selection.map(\.valid), plain.state.history.map(\.valid))
        XCTAssertEqual(refitted.valid.summary, plain.valid.summary, "validation figures are the chosen epoch's")
        XCTAssertEqual(refitted.state.history.refitPass.map(\.epoch), Array(1...plain.state.bestEpoch))
        XCTAssertTrue(refitted.state.history.refitPass.allSatisfy { $0.valid.ndcg.isEmpty }, "no validation figures after training on them")
        // A third of the users (the primary ones) have a test target only the refit can learn: measured
        // 0.18 without refit (chance 0.10; the others' targets are fillers) and 0.58 with it.
        XCTAssertLessThan(plain.test.hitRate(at: 10), 0.3, "without refit the planted test transitions are unseen")
        XCTAssertGreaterThan(refitted.test.hitRate(at: 10), plain.test.hitRate(at: 10) + 0.25)
        // The run's model file is the refit pass's last weights, not the chosen epoch's.
        let run = refitted.run
        XCTAssertEqual(try SHA256.hex(ofFile: run.modelFile), try SHA256.hex(ofFile: run.checkpoint.appendingPathComponent(ModelArtifact.weightsFile)))
        XCTAssertNotEqual(try SHA256.hex(ofFile: run.modelFile), try SHA256.hex(ofFile: run.best.appendingPathComponent(ModelArtifact.weightsFile)))
        XCTAssertEqual(try SHA256.hex(ofFile: plain.run.modelFile), try SHA256.hex(ofFile: plain.run.best.appendingPathComponent(ModelArtifact.weightsFile)))
    }

    /// A run whose first pass finished without refit, resumed with it, refits from the initial weights
    /// into the model an uninterrupted refit run gives, bit for bit.
    func testARefitResumedAfterTheFirstPassEqualsAnUninterruptedOne() throws {
        let split = Self.plantedSplit(pairs: 8, usersPerRole: 3), dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = Self.config(refit: true)
        config.epochs = 4
        let whole = RunDirectory(dir.appendingPathComponent("whole")), resumed = RunDirectory(dir.appendingPathComponent("resumed"))
        _ = try Trainer(config: config, split: split, run: whole, showProgress: false, log: { _ in }).train(modelId: "whole")
        config.refit = false
        _ = try Trainer(config: config, split: split, run: resumed, showProgress: false, log: { _ in }).train(modelId: "resumed")
        config.refit = true
        var lines: [String] = []
        _ = try Trainer(config: config, split: split, run: resumed, showProgress: false, log: { lines.append($0) }).train(modelId: "resumed")
        XCTAssertTrue(lines.contains { $0.hasPrefix("refit:") }, "\(lines)")
        XCTAssertEqual(try SHA256.hex(ofFile: resumed.modelFile), try SHA256.hex(ofFile: whole.modelFile))
    }
}
