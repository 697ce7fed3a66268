import XCTest
import PleatCore
import PleatTensor
import PleatTestSupport
@testable import PleatEncoders

/// The behaviour embedding each encoder can add to its input (x = E[item] + P[position] + B[behaviour]):
/// its gradient against central differences through the whole encoder, its row 0 (no behaviour) as
/// zeros without a gradient, and an encoder built without it unchanged (no parameter added).
final class BehaviourEmbeddingTests: XCTestCase {
    private static let ids: [Int32] = [1, 4, 4, 9, 2, 3, 5, 7, 0, 0]
    /// Two sequences of 5 positions; the second has 3 events. Behaviour 0 on a real event: none known.
    private static let behaviours: [Int32] = [1, 2, 0, 3, 1, 3, 3, 2, 0, 0]
    private static let behaviourTypes = 3

    private func transformer() -> TransformerConfig {
        var c = TransformerConfig()
        (c.items, c.dimension, c.heads, c.blocks, c.maxLength, c.dropout, c.layerNormEpsilon) = (9, 8, 2, 2, 5, 0.2, 1e-5)
        return c
    }

    private func hstu() -> HSTUConfig {
        var c = HSTUConfig()
        (c.items, c.dimension, c.heads, c.maxLength, c.dropout) = (9, 8, 2, 5, 0.2)
        return c
    }

    /// Random weights of a useful size, LayerNorm gains around 1 (as the encoders' own tests draw them).
    private func randomize(_ store: ParameterStore) {
        var rng = RandomSource(seed: 8)
        for p in store.parameters { Initializer.normal(p.value, std: 0.3, rng: &rng) }
        for p in store.parameters where p.name.contains("ln") && p.name.hasSuffix("weight") {
            for i in 0..<p.value.count { p.value[i] += 1 }
        }
    }

    /// Checks ∂(Σ w ⊙ output)/∂`table` for `encoder` (random weights, its fields set), whose forward is
    /// `run`, against central differences; padded rows carry no loss, and row 0 (none) gets no gradient.
    private func checkTableGradient(_ encoder: any SequenceEncoder, _ table: String, rows: Int, _ name: String,
                                    run: @escaping (inout RandomSource?) -> Void) {
        let w = GradientCheck.random([10, 8], seed: 9)
        for i in 64..<80 { w[i] = 0 }
        func loss() -> Double {
            var dropoutRng: RandomSource? = RandomSource(seed: 10)
            run(&dropoutRng)
            return GradientCheck.weightedSum(encoder.output, w)
        }
        encoder.store.zeroGrad()
        _ = loss()
        encoder.outputGradient.copy(from: w)
        encoder.backward()
        guard let p = encoder.store[table] else { return XCTFail("\(name): no \(table)") }
        XCTAssertEqual(p.shape, [rows, 8], name)
        GradientCheck.check(p.value, gradient: p.grad, "\(name) \(table)", loss: loss)
        XCTAssertEqual(Array(p.grad.array[0..<8]), [Float](repeating: 0, count: 8), "\(name): row 0 (none) gets no gradient")
    }

    /// The behaviour table's gradient, and the behaviour's effect on the encoding.
    private func checkBehaviourGradient(_ encoder: any SequenceEncoder, _ name: String, run: @escaping (inout RandomSource?) -> Void) {
        randomize(encoder.store)
        encoder.fields.behaviours = Self.behaviours
        checkTableGradient(encoder, "behaviour_emb.weight", rows: Self.behaviourTypes + 1, name, run: run)

        // The behaviour changes the encoding: same items, another behaviour at the first position.
        var noDropout: RandomSource? = nil
        run(&noDropout)
        let reference = encoder.output.array
        var changed = Self.behaviours
        changed[0] = 2
        encoder.fields.behaviours = changed
        run(&noDropout)
        XCTAssertNotEqual(Array(encoder.output.array[0..<8]), Array(reference[0..<8]), "\(name): behaviour ignored")
        // Without behaviour ids every row reads row 0 (zeros): as if each event had none.
        encoder.fields.behaviours = nil
        run(&noDropout)
        let withoutIds = encoder.output.array
        encoder.fields.behaviours = [Int32](repeating: 0, count: Self.ids.count)
        run(&noDropout)
        XCTAssertEqual(encoder.output.array, withoutIds, "\(name): nil ids and row 0 differ")
    }

    func testSASRecBehaviourGradient() {
        let encoder = SASRecEncoder(config: transformer(), batch: 2, seed: 7, behaviourTypes: Self.behaviourTypes)
        checkBehaviourGradient(encoder, "sasrec") { encoder.forward(Self.ids, rng: &$0) }
    }

    func testHSTUBehaviourGradient() {
        let encoder = HSTUEncoder(config: hstu(), batch: 2, seed: 7, behaviourTypes: Self.behaviourTypes)
        let timestamps: [Int64] = [0, 60, 4_000, 90_000, 700_000, 800_000, 10, 20, 5_000, 5_000, 5_000, 5_000]
        checkBehaviourGradient(encoder, "hstu") { encoder.forward(Self.ids, timestamps: timestamps, rng: &$0) }
    }

    func testBERT4RecBehaviourGradient() {
        let encoder = BERT4RecEncoder(config: transformer(), batch: 2, seed: 7, behaviourTypes: Self.behaviourTypes)
        var ids = Self.ids
        ids[2] = encoder.maskToken
        checkBehaviourGradient(encoder, "bert4rec") { encoder.forward(ids, rng: &$0) }
    }

    /// The value embedding beside the behaviour's: its gradient through the encoder, row 0 (no value)
    /// without one.
    func testValueEmbeddingGradient() {
        let encoder = SASRecEncoder(config: transformer(), batch: 2, seed: 7, behaviourTypes: Self.behaviourTypes, valueBuckets: 4)
        randomize(encoder.store)
        encoder.fields.behaviours = Self.behaviours
        encoder.fields.values = [1, 4, 0, 2, 3, 1, 1, 4, 0, 0]
        checkTableGradient(encoder, "value_emb.weight", rows: 5, "sasrec") { encoder.forward(Self.ids, rng: &$0) }
    }

    /// An encoder without behaviour types has the parameters (names, shapes, initial values) it had
    /// before behaviours existed: the same seed gives the same weights.
    func testWithoutBehavioursNothingIsAdded() {
        let plain = SASRecEncoder(config: transformer(), batch: 2, seed: 7)
        let withBehaviours = SASRecEncoder(config: transformer(), batch: 2, seed: 7, behaviourTypes: 2)
        XCTAssertNil(plain.store["behaviour_emb.weight"])
        XCTAssertEqual(withBehaviours.store.parameters.map(\.name).filter { $0 != "behaviour_emb.weight" }, plain.store.parameters.map(\.name))
        XCTAssertEqual(plain.store.parameters.count + 1, withBehaviours.store.parameters.count)
    }
}
