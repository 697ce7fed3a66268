import XCTest
import PleatCore
import PleatMetrics
import PleatTensor
import PleatHistories
import PleatTestSupport
@testable import PleatModel

/// The repeat head (`sasrec.repeat`): every parameter's gradient, the head's and the encoder's through
/// it, against finite differences, under the two losses it trains with; and the scores that rank and
/// serve carry the boost for the user's own items only.
final class RepeatHeadTests: XCTestCase {
    private func spec(_ loss: SASRecSettings.Loss) -> ModelSpec {
        var spec = ModelSpec(kind: .sasrec, maxLength: 6)
        (spec.sasrec.encoder.dimension, spec.sasrec.encoder.heads, spec.sasrec.encoder.blocks, spec.sasrec.encoder.dropout) = (8, 1, 1, 0)
        (spec.sasrec.loss, spec.sasrec.negatives, spec.sasrec.repeat) = (loss, 6, true)
        return spec
    }

    /// HSTU with its shared negatives (drawn with repeats from 12 items, so that several columns can
    /// hold one of the user's items) and the temperature the offsets are divided by.
    private var hstuSpec: ModelSpec {
        var spec = ModelSpec(kind: .hstu, maxLength: 6)
        (spec.hstu.encoder.dimension, spec.hstu.encoder.heads, spec.hstu.encoder.blocks, spec.hstu.encoder.dropout) = (8, 1, 1, 0)
        spec.hstu.encoder.attention.dropout = 0
        (spec.hstu.negatives, spec.hstu.temperature, spec.hstu.repeat) = (16, 0.5, true)
        return spec
    }

    /// Users who come back to items, and one longer than the window.
    private let sequences: [EventSequence] = [[1, 2, 1, 3, 2, 1, 4], [5, 5, 6, 5, 7], [8, 9, 10, 8, 11, 9, 8, 12, 9]].map { items in
        EventSequence(items: items[...], times: items.indices.map { Int64(100 * $0) }[...])
    }

    /// Tolerance: `GradientCheck`'s (5·10⁻⁴ relative; its comment says why it holds for float32 on any BLAS).
    func testGradientsMatchFiniteDifferences() {
        for (name, spec) in [("sasrec ce", spec(.ce)), ("sasrec sampled_softmax", spec(.sampledSoftmax)), ("hstu", hstuSpec)] {
            let model = spec.makeModel(batchSize: 3, seed: 5, items: 12)
            let store = model.store
            // Away from the zero start, so that every term of the head's gradient is exercised.
            var rng = RandomSource(seed: 1)
            let gate = store["repeat.gate.weight"]!
            for i in 0..<gate.value.count { gate.value[i] = Float(rng.normal()) * 0.05 }
            store["repeat.gate.bias"]!.value[0] = 0.03
            let features = store["repeat.features.weight"]!
            for i in 0..<features.value.count { features.value[i] = 0.07 * Float(i + 1) }
            func step() -> Double {
                var stepRng = RandomSource(seed: 9)  // the same negatives every call
                store.zeroGrad()
                return model.trainStep(sequences, rng: &stepRng)
            }
            _ = step()
            let analytic = store.parameters.map { p -> Tensor in
                let copy = Tensor(p.grad.shape)
                copy.copy(from: p.grad)
                return copy
            }
            // The head's parameters, and where its ∂h enters the encoder: the output LayerNorm (post-LN) and,
            // at the end of the chain, the item table (input and scores alike). The layers in between have
            // their own checks (PleatEncodersTests): through a whole model in float32 their finite
            // differences are dominated by rounding (relative errors 1e-3 to 5e-3 here, the head on or off).
            let checked = store.parameters.filter { $0.name.hasPrefix("repeat.") || ["item_emb.weight", "blocks.0.ln2.weight", "blocks.0.ln2.bias"].contains($0.name) }
            XCTAssertGreaterThanOrEqual(checked.count, 4, "\(name): \(store.parameters.map(\.name))")
            for (p, gradient) in zip(store.parameters, analytic) where checked.contains(where: { $0 === p }) {
                GradientCheck.check(p.value, gradient: gradient, "\(name) \(p.name)") { step() }
            }
        }
    }

    /// With the head, the window's items are scored κ·(g + ⟨c, f(j)⟩) and every other item by its plain
    /// dot product; A favours the recent and the frequent, the place the newest, the count the frequent.
    func testScoresBoostOnlyTheUsersOwnItems() {
        let model = spec(.ce).makeModel(batchSize: 2, seed: 5, items: 12)
        let scores = Tensor([2, 13])
        let queries = [ScoringQuery(history: EventSequence(items: [3, 4, 3][...], times: [1, 2, 3][...]), time: 4),
                       ScoringQuery(history: EventSequence(items: [7][...], times: [1][...]), time: 2)]
        model.scores(queries, into: scores)
        let plain = scores.array
        model.store["repeat.gate.bias"]!.value[0] = 0.2
        model.store["repeat.features.weight"]!.value[0] = 0.1  // with κ = 10: a boost of 2 + A(j)
        model.scores(queries, into: scores)
        let boosted = scores.array
        func boost(_ r: Int, _ item: Int) -> Float { [3, 4].contains(item) && r == 0 || item == 7 && r == 1 ? boosted[r * 13 + item] : boosted[r * 13 + item] - plain[r * 13 + item] }
        // Item 3 at ages 1 and 3: A = log(1 + 3^-0.5); item 4 at age 2: A = log(2^-0.5).
        XCTAssertEqual(boost(0, 3), 2 + Float(log(1 + pow(3.0, -0.5))), accuracy: 1e-4)
        XCTAssertEqual(boost(0, 4), 2 + Float(log(pow(2.0, -0.5))), accuracy: 1e-4)
        XCTAssertEqual(boost(1, 7), 2, accuracy: 1e-4)
        for item in 1...12 where ![3, 4].contains(item) { XCTAssertEqual(boost(0, item), 0, accuracy: 1e-6, "item \(item)") }
        // The recency place (item 3 newest: −log 1; item 4 next: −log 2) and the count (log 2, log 1).
        let features = model.store["repeat.features.weight"]!
        (features.value[0], features.value[1], features.value[2]) = (0, 0.1, 0.1)
        model.scores(queries, into: scores)
        let byPlaceAndCount = scores.array
        XCTAssertEqual(byPlaceAndCount[3], 2 + Float(log(2.0)), accuracy: 1e-4)
        XCTAssertEqual(byPlaceAndCount[4], 2 - Float(log(2.0)), accuracy: 1e-4)
        for item in 1...12 where item != 7 { XCTAssertEqual(boost(1, item), 0, accuracy: 1e-6, "item \(item)") }
    }
}
