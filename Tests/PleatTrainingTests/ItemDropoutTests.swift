import Foundation
import XCTest
import PleatCore
import PleatTensor
import PleatHistories
@testable import PleatEncoders
@testable import PleatModel
@testable import PleatTraining

/// `sasrec.item_dropout` and `bert4rec.item_dropout` reach the model: a training step reads a dropped
/// item table and leaves the table's values as they were, with the step's gradient carried through the
/// mask. The full softmax gives every item row a gradient, so without dropout (almost) no entry of the
/// table's gradient is exactly zero, and with it about the dropped share is. (The mask's arithmetic
/// itself is gradient-checked in `LayerGradientTests`.)
final class ItemDropoutTests: XCTestCase {
    private let items = 40, rate: Float = 0.3

    private func model(_ kind: ModelKind, itemDropout: Float) -> any NextItemModel {
        var config = TrainingConfig(model: kind)
        config.maxLength = 12
        (config.sasrec.encoder.dimension, config.bert4rec.encoder.dimension) = (16, 16)
        (config.sasrec.loss, config.sasrec.itemDropout, config.bert4rec.itemDropout) = (.ce, itemDropout, itemDropout)
        return config.spec.makeModel(batchSize: 8, seed: 3, items: items)
    }

    private func table(of model: any NextItemModel) -> Parameter {
        switch model {
        case let m as SASRecModel: return m.backbone.items.table
        case let m as BERT4RecModel: return m.encoder.items.table
        default: fatalError("no item table")
        }
    }

    private var sequences: [EventSequence] {
        var rng = RandomSource(seed: 7)
        return (0..<8).map { b in
            let n = 4 + b % 8
            return EventSequence(items: (0..<n).map { _ in Int32(1 + rng.below(items)) }[...],
                                 times: (0..<n).map { Int64(1_700_000_000 + 60 * $0) }[...])
        }
    }

    /// The share of exactly-zero gradient entries over the item rows (1…items), and whether the step
    /// put the table's values back.
    private func step(_ model: any NextItemModel) -> (zeroShare: Double, valuesKept: Bool) {
        let table = table(of: model), d = table.shape[1]
        let before = table.value.array
        model.store.zeroGrad()
        var rng = RandomSource(seed: 5)
        let loss = model.trainStep(sequences, rng: &rng)
        XCTAssertTrue(loss.isFinite)
        let rows = d..<((items + 1) * d)
        let zeros = rows.filter { table.grad[$0] == 0 }.count
        return (Double(zeros) / Double(rows.count), table.value.array == before)
    }

    func testItemDropoutDropsTheTablesShareForOneStepAndPutsItBack() {
        for kind in [ModelKind.sasrec, .bert4rec] {
            let plain = step(model(kind, itemDropout: 0)), dropped = step(model(kind, itemDropout: rate))
            XCTAssertTrue(plain.valuesKept && dropped.valuesKept, "\(kind): a step changes no value before the update")
            XCTAssertLessThan(plain.zeroShare, 0.01, "\(kind): without item dropout every item row has a gradient")
            // 640 entries: the share's standard deviation is about 0.018, so ±0.09 is five of them.
            XCTAssertEqual(dropped.zeroShare, Double(rate), accuracy: 0.09, "\(kind): the dropped entries get no gradient")
        }
    }

    func testTheRateIsCheckedAndOldSpecsReadAsOff() throws {
        for key in ["sasrec", "bert4rec"] {
            XCTAssertThrowsError(try TrainingConfig.resolve(model: nil, file: nil, overrides: ["\(key).item_dropout=1"]).validate()) {
                XCTAssertTrue("\($0)".contains("\(key).item_dropout"), "\($0)")
            }
        }
        // A BERT4Rec spec stored before the key existed.
        var stored = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder.snakeCase().encode(BERT4RecSettings())) as? [String: Any])
        stored["item_dropout"] = nil
        let read = try JSONDecoder.snakeCase.decode(BERT4RecSettings.self, from: JSONSerialization.data(withJSONObject: stored))
        XCTAssertEqual(read.itemDropout, 0)
        XCTAssertEqual(read, BERT4RecSettings())
    }
}
