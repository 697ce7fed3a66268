import XCTest
import PleatCore
import PleatTensor
import PleatTestSupport
@testable import PleatEncoders

final class SASRecEncoderTests: XCTestCase {
    private func smallConfig(dropout: Float) -> TransformerConfig {
        var c = TransformerConfig()
        c.items = 9; c.dimension = 8; c.heads = 2; c.blocks = 2; c.maxLength = 5; c.dropout = dropout
        c.layerNormEpsilon = 1e-5
        return c
    }

    /// The whole encoder's backward pass against central differences, dropout included (a fixed seed
    /// draws the same masks on every evaluation).
    func testEncoderGradients() {
        let encoder = SASRecEncoder(config: smallConfig(dropout: 0.2), batch: 2, seed: 7)
        var rng = RandomSource(seed: 8)
        for p in encoder.store.parameters { Initializer.normal(p.value, std: 0.3, rng: &rng) }
        for p in encoder.store.parameters where p.name.hasSuffix("ln1.weight") || p.name.hasSuffix("ln2.weight") || p.name == "emb_ln.weight" {
            for i in 0..<p.value.count { p.value[i] += 1 }
        }
        let ids: [Int32] = [1, 4, 4, 9, 2, 0, 3, 5, 7, 8]
        let w = GradientCheck.random([10, 8], seed: 9)
        func loss() -> Double {
            var dropoutRng: RandomSource? = RandomSource(seed: 10)
            encoder.forward(ids, rng: &dropoutRng)
            return GradientCheck.weightedSum(encoder.output, w)
        }
        _ = loss()
        encoder.outputGradient.copy(from: w)
        encoder.backward()
        for name in ["item_emb.weight", "pos_emb.weight", "emb_ln.weight", "blocks.0.qkv.weight", "blocks.0.qkv.bias",
                     "blocks.0.out.weight", "blocks.0.ln1.bias", "blocks.1.ff1.weight", "blocks.1.ff2.bias", "blocks.1.ln2.weight"] {
            let p = encoder.store[name]!
            GradientCheck.check(p.value, gradient: p.grad, name, loss: loss)
        }
        XCTAssertEqual(Array(encoder.store["item_emb.weight"]!.grad.array[0..<8]), [Float](repeating: 0, count: 8), "padding row")
    }

    /// Pre-LN and LiGR stacks (gated residuals, SwiGLU FFN, final LN): every parameter's gradient against
    /// central differences, dropout included, through two blocks.
    func testPreNormAndLiGRGradients() {
        for block in [TransformerConfig.Block.preNorm, .ligr] {
            var config = smallConfig(dropout: 0.2)
            config.block = block
            config.ffnMultiplier = 2
            let encoder = SASRecEncoder(config: config, batch: 2, seed: 17)
            var rng = RandomSource(seed: 18)
            for p in encoder.store.parameters { Initializer.normal(p.value, std: 0.3, rng: &rng) }
            for p in encoder.store.parameters where p.name.hasSuffix("ln1.weight") || p.name.hasSuffix("ln2.weight") || p.name.hasSuffix("ln.weight")
                || p.name == "ln_final.weight" {
                for i in 0..<p.value.count { p.value[i] += 1 }
            }
            let ids: [Int32] = [3, 1, 8, 9, 2, 6, 6, 0, 0, 0]
            let w = GradientCheck.random([10, 8], seed: 19)
            func loss() -> Double {
                var dropoutRng: RandomSource? = RandomSource(seed: 20)
                encoder.forward(ids, rng: &dropoutRng)
                return GradientCheck.weightedSum(encoder.output, w)
            }
            _ = loss()
            encoder.outputGradient.copy(from: w)
            encoder.backward()
            let names = encoder.store.parameters.map(\.name)
            XCTAssertTrue(names.contains("ln_final.weight"), "\(block): a final LayerNorm")
            XCTAssertEqual(names.contains("blocks.1.gate2.weight"), block == .ligr, "\(block): gates only in LiGR")
            XCTAssertEqual(names.contains("blocks.0.ff_in.bias"), false, "no FFN bias in LiGR's SwiGLU")
            for p in encoder.store.parameters {
                GradientCheck.check(p.value, gradient: p.grad, "\(block) \(p.name)", loss: loss)
            }
        }
    }
}
