import XCTest
import PleatCore
import PleatTensor
import PleatTestSupport
@testable import PleatEncoders

final class BERT4RecEncoderTests: XCTestCase {
    /// The whole bidirectional encoder with its output transform, dropout and padding keys, against
    /// central differences; and the key mask: changing a padded position's id changes nothing.
    func testEncoderGradientsAndPaddingIsInvisible() {
        var c = TransformerConfig()
        (c.items, c.dimension, c.heads, c.blocks, c.maxLength, c.dropout, c.layerNormEpsilon) = (9, 8, 2, 2, 5, 0.2, 1e-5)
        let encoder = BERT4RecEncoder(config: c, batch: 2, seed: 7)
        var rng = RandomSource(seed: 8)
        for p in encoder.store.parameters { Initializer.normal(p.value, std: 0.3, rng: &rng) }
        for p in encoder.store.parameters where p.name.hasSuffix("ln1.weight") || p.name.hasSuffix("ln2.weight")
            || p.name == "emb_ln.weight" || p.name == "head.ln.weight" {
            for i in 0..<p.value.count { p.value[i] += 1 }
        }
        let mask = encoder.maskToken
        let ids: [Int32] = [1, 4, mask, 9, 2, 3, mask, 7, 0, 0]
        let w = GradientCheck.random([10, 8], seed: 9)
        func loss() -> Double {
            var dropoutRng: RandomSource? = RandomSource(seed: 10)
            encoder.forward(ids, rng: &dropoutRng)
            return GradientCheck.weightedSum(encoder.output, w)
        }
        _ = loss()
        encoder.outputGradient.copy(from: w)
        encoder.backward()
        for name in ["item_emb.weight", "pos_emb.weight", "emb_ln.bias", "blocks.0.qkv.weight", "blocks.0.out.bias",
                     "blocks.1.ff1.weight", "blocks.1.ln2.weight", "head.transform.weight", "head.transform.bias", "head.ln.weight"] {
            let p = encoder.store[name]!
            GradientCheck.check(p.value, gradient: p.grad, name, loss: loss)
        }

        // Bidirectional: the first position depends on a later one; padding keys are hidden.
        var noDropout: RandomSource? = nil
        encoder.forward(ids, rng: &noDropout)
        let reference = encoder.output.array
        var changedLater = ids; changedLater[3] = 5
        encoder.forward(changedLater, rng: &noDropout)
        XCTAssertNotEqual(Array(encoder.output.array[0..<8]), Array(reference[0..<8]), "position 0 sees position 3")
        let positions = encoder.store["pos_emb.weight"]!.value  // rows 3 and 4 only reach sequence 2 as padding
        for i in (3 * 8)..<(5 * 8) { positions[i] += 0.5 }
        encoder.forward(ids, rng: &noDropout)
        XCTAssertEqual(Array(encoder.output.array[40..<64]), Array(reference[40..<64]), "real positions of sequence 2 ignore padding keys")
        XCTAssertNotEqual(Array(encoder.output.array[0..<8]), Array(reference[0..<8]), "while sequence 1 sees its positions 3 and 4")
    }
}
