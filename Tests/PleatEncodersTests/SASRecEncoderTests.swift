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

    /// Pre-LN, LiGR (gated residuals, SwiGLU FFN) and original-SASRec stacks (queries from LN x, keys and
    /// values from x, ReLU FFN), each with a final LN: every parameter's gradient against central
    /// differences, dropout included, through two blocks.
    func testPreNormLiGRAndOriginalSASRecGradients() {
        for (block, attendPadding) in [(TransformerConfig.Block.preNorm, false), (.ligr, false), (.sasrec, false), (.sasrec, true)] {
            var config = smallConfig(dropout: 0.2)
            config.block = block
            config.attendPadding = attendPadding
            // The original block's FFN is d wide, as the original's. At 2·d its output outweighs the
            // normalised stream it adds to, and the float32 rounding of the loss reached the tolerance on
            // W₁ (4.7·10⁻⁴ to 5.9·10⁻⁴ over the Haswell and generic kernels); at d the largest error of
            // the block over the Haswell, generic, Cooperlake and Prescott kernels is 3.2·10⁻⁴ (K and V of
            // block 0).
            config.ffnMultiplier = block == .sasrec ? 1 : 2
            let encoder = SASRecEncoder(config: config, batch: 2, seed: 17)
            var rng = RandomSource(seed: 18)
            for p in encoder.store.parameters { Initializer.normal(p.value, std: 0.3, rng: &rng) }
            for p in encoder.store.parameters where p.name.hasSuffix("ln1.weight") || p.name.hasSuffix("ln2.weight") || p.name.hasSuffix("ln.weight")
                || p.name == "ln_final.weight" {
                for i in 0..<p.value.count { p.value[i] += 1 }
            }
            // ReLU has a kink at 0 that central differences straddle: biases of ±3 keep every hidden unit
            // of the original block on one side (half always on, half always off), both sides checked.
            for p in encoder.store.parameters where block == .sasrec && p.name.hasSuffix("ff1.bias") {
                for i in 0..<p.value.count { p.value[i] = i % 2 == 0 ? 3 : -3 }
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
            XCTAssertEqual(names.contains("blocks.1.kv.weight"), block == .sasrec, "\(block): separate key-value product")
            XCTAssertEqual(names.contains("emb_ln.weight"), block != .sasrec, "\(block): the original has no input LN")
            for p in encoder.store.parameters {
                GradientCheck.check(p.value, gradient: p.grad, "\(block) \(attendPadding ? "attending to padding " : "")\(p.name)", loss: loss)
            }
        }
    }

    /// Scoring's path (`encodeLastPositions`: the last block runs one query, its FFN and norms for one row
    /// per sequence) gives the full forward's rows at each sequence's last real position, for every
    /// block kind (the original with and without attention to padding), both position numberings, zero to
    /// two blocks and sequences of length 0 to 5 (packed
    /// length 5, maximum 6). Outputs are LayerNorm'd (entries of a few units); only the summation order
    /// of ≤ 6 keys differs, so float32 rounding stays near 1e-6.
    func testLastPositionsMatchTheFullForward() {
        for (block, attendPadding) in TransformerConfig.Block.allCases.map({ ($0, false) }) + [(.sasrec, true)] {
            for positions in TransformerConfig.Positions.allCases {
                for blocks in 0...2 {
                    var c = smallConfig(dropout: 0.2)
                    (c.block, c.positions, c.blocks, c.maxLength, c.attendPadding) = (block, positions, blocks, 6, attendPadding)
                    let encoder = SASRecEncoder(config: c, batch: 4, seed: 3)
                    var rng = RandomSource(seed: 4)
                    for p in encoder.store.parameters { Initializer.normal(p.value, std: 0.3, rng: &rng) }
                    let n = 5, lengths: [Int32] = [5, 3, 1, 0]
                    var ids = [Int32](repeating: 0, count: 4 * n)
                    for b in 0..<4 { for i in 0..<Int(lengths[b]) { ids[b * n + i] = Int32(1 + (b * 3 + i * 5) % 9) } }
                    encoder.setLength(n)
                    var noDropout: RandomSource? = nil
                    encoder.forward(ids, lengths: lengths, contextCounts: nil, timestamps: nil, rng: &noDropout)
                    let full = Tensor([4 * n, 8]); full.copy(from: encoder.output)
                    let users = Tensor([4, 8])
                    encoder.encodeLastPositions(ids, lengths: lengths, timestamps: nil, into: users)
                    let worst = LastPositions.largestDifference(users: users, full: full, lengths: lengths, length: n)
                    let label = "\(block)\(attendPadding ? " attending to padding" : ""), \(positions), \(blocks) blocks"
                    XCTAssertLessThan(worst, 1e-5, label)
                    XCTAssertGreaterThan(abs(users[0] - users[8]) + abs(users[8] - users[16]), 1e-3, "rows differ: \(label)")
                    for i in 0..<8 { XCTAssertFalse(users[24 + i].isNaN, "an empty sequence gives no NaN: \(label)") }
                    // The encoder is left usable at its length: a second full pass gives the same output.
                    encoder.forward(ids, lengths: lengths, contextCounts: nil, timestamps: nil, rng: &noDropout)
                    XCTAssertEqual(encoder.output.array, full.array, label)
                }
            }
        }
    }
}
