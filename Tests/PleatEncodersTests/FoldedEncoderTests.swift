import XCTest
import PleatCore
import PleatTensor
import PleatTestSupport
@testable import PleatEncoders

final class FoldedEncoderTests: XCTestCase {
    static var shape: FoldedEncoder.Shape {
        var shape = FoldedEncoder.Shape()
        (shape.groups, shape.groupLength, shape.keys) = (2, 3, 3)
        return shape
    }

    static func hstu() -> FoldedEncoder {
        var c = HSTUConfig()
        (c.items, c.dimension, c.heads, c.blocks, c.maxLength, c.dropout) = (9, 8, 2, 1, 3, 0.2)
        return FoldedEncoder(hstu: c, shape: shape, batch: 2, seed: 7)
    }

    static func sasrec() -> FoldedEncoder {
        var c = TransformerConfig()
        (c.items, c.dimension, c.heads, c.blocks, c.maxLength, c.dropout, c.ffnMultiplier) = (9, 8, 2, 1, 3, 0.2, 2)
        return FoldedEncoder(sasrec: c, shape: shape, batch: 2, seed: 7)
    }

    static func bert4rec() -> FoldedEncoder {
        var c = TransformerConfig()
        (c.items, c.dimension, c.heads, c.blocks, c.maxLength, c.dropout, c.ffnMultiplier) = (9, 8, 2, 1, 3, 0.2, 2)
        return FoldedEncoder(bert4rec: c, shape: shape, batch: 2, seed: 7)
    }

    /// Two sequences: the first with 2 folds (3 and 2 events) and a full window of 3, the second with one
    /// fold of 1 event and a window of 2. Window layout: fold tokens first, then the window's items.
    static func inputs(_ shape: FoldedEncoder.Shape) -> FoldedEncoder.Inputs {
        var x = FoldedEncoder.Inputs(batch: 2, shape: shape, window: 3)
        x.ids = [0, 0, 4, 2, 7, 0, 5, 6, 0, 0]
        x.lengths = [5, 3]
        x.foldCounts = [2, 1]
        x.timestamps = [100, 300, 1_000, 1_060, 5_000, 9_000, 50, 400, 420, 900, 900, 900]
        x.foldIds = [1, 3, 3, 8, 9, 0, 2, 0, 0, 0, 0, 0]
        x.foldLengths = [3, 2, 1, 0]
        x.foldTimes = [10, 40, 100, 1_000, 200, 300, 300, 1_000, 50, 400, 400, 400, 0, 0, 0, 0]
        x.foldKeys = [1, 3, 2, 0]
        x.foldStatistics = [1.1, 0.3, 0.7, 0.2, 0.2, 2.0, 0, 0]
        return x
    }

    /// Every parameter (window encoder, fold encoder, the shared item table, key embedding, statistics
    /// projection) against central differences, dropout on (fixed masks). The fold path runs
    /// through two L2/LayerNorm stages to small gradients, where Float32 rounding is largest: the fold
    /// block's pos_w and ts_w measured 5·10⁻⁴ to 9·10⁻⁴ at h = 4·10⁻³ depending on the BLAS kernel, and
    /// 2·10⁻⁵ to 1.3·10⁻⁴ at 1.6·10⁻² on every kernel (errors that shrink as h grows are rounding).
    func testFoldedHSTUGradients() {
        checkGradients(Self.hstu(), mustCheck: ["item_emb.weight", "fold.pos_emb.weight", "fold.blocks.0.uvqk.weight", "fold.key_emb.weight",
                                                "fold.stats.weight", "blocks.0.uvqk.weight", "blocks.0.attn.pos_w", "blocks.0.attn.ts_w"])
    }

    /// The same for folded SASRec (softmax attention with a context prefix, post-LN blocks). LayerNorm
    /// gains stay at 1 and biases at 0: with random gains near 0 the fold path's gradients (through three
    /// LayerNorms) shrink to where Float32 rounding dominates the central differences.
    func testFoldedSASRecGradients() {
        checkGradients(Self.sasrec(), mustCheck: ["item_emb.weight", "fold.pos_emb.weight", "fold.blocks.0.qkv.weight", "fold.key_emb.weight",
                                                  "fold.stats.weight", "fold.ln.weight", "blocks.0.qkv.weight", "blocks.0.ff1.weight"],
                       randomizeVectors: false)
    }

    /// The same for folded BERT4Rec: bidirectional attention over the fold tokens and the window (padding
    /// keys hidden, fold tokens not), the fold encoder's and the window's output transforms.
    func testFoldedBERT4RecGradients() {
        checkGradients(Self.bert4rec(), mustCheck: ["item_emb.weight", "fold.pos_emb.weight", "fold.blocks.0.qkv.weight", "fold.key_emb.weight",
                                                    "fold.stats.weight", "fold.ln.weight", "fold.head.transform.weight", "blocks.0.qkv.weight",
                                                    "head.transform.weight"],
                       randomizeVectors: false)
    }

    /// Folded SASRec reading behaviours: the window's and the folds' behaviour embeddings, and the
    /// per-behaviour fold statistics (counts and days since the last of each behaviour: 2 + 2·2 a fold).
    func testFoldedSASRecWithBehavioursGradients() {
        var c = TransformerConfig()
        (c.items, c.dimension, c.heads, c.blocks, c.maxLength, c.dropout, c.ffnMultiplier) = (9, 8, 2, 1, 3, 0.2, 2)
        let encoder = FoldedEncoder(sasrec: c, shape: Self.shape, batch: 2, seed: 7, behaviourTypes: 2)
        XCTAssertEqual(encoder.statisticCount, 6)
        XCTAssertEqual(encoder.store["fold.stats.weight"]?.shape, [8, 6])
        var x = FoldedEncoder.Inputs(batch: 2, shape: Self.shape, window: 3, behaviourTypes: 2)
        let plain = Self.inputs(Self.shape)
        (x.ids, x.lengths, x.foldCounts, x.timestamps) = (plain.ids, plain.lengths, plain.foldCounts, plain.timestamps)
        (x.foldIds, x.foldLengths, x.foldTimes, x.foldKeys) = (plain.foldIds, plain.foldLengths, plain.foldTimes, plain.foldKeys)
        x.behaviours = [0, 0, 1, 2, 1, 0, 2, 2, 0, 0]
        x.foldBehaviours = [1, 1, 2, 2, 1, 0, 1, 0, 0, 0, 0, 0]
        x.foldStatistics = [1.1, 0.3, 0.7, 0.2, 0.5, 0.1, 0.7, 0.2, 0.5, 0.9, 0.2, 2.0, 0.6, 1.3, 0, 0] + [Float](repeating: 0, count: 8)
        checkGradients(encoder, inputs: x, mustCheck: ["behaviour_emb.weight", "fold.behaviour_emb.weight", "fold.stats.weight",
                                                       "fold.key_emb.weight", "item_emb.weight"], randomizeVectors: false)
    }

    func checkGradients(_ encoder: FoldedEncoder, inputs: FoldedEncoder.Inputs? = nil, mustCheck: [String], randomizeVectors: Bool = true,
                        file: StaticString = #filePath, line: UInt = #line) {
        let shape = Self.shape
        var rng = RandomSource(seed: 8)
        for p in encoder.store.parameters where p.shape.count == 2 || randomizeVectors { Initializer.normal(p.value, std: 0.3, rng: &rng) }
        let x = inputs ?? Self.inputs(shape)
        let w = GradientCheck.random([10, 8], seed: 9)
        for row in [0, 1, 5, 8, 9] { for j in 0..<8 { w[row * 8 + j] = 0 } }  // loss on window positions only
        func loss() -> Double {
            var dropoutRng: RandomSource? = RandomSource(seed: 10)
            encoder.forward(x, rng: &dropoutRng)
            return GradientCheck.weightedSum(encoder.output, w)
        }
        _ = loss()
        encoder.outputGradient.copy(from: w)
        encoder.backward()
        var checked: [String] = []
        for p in encoder.store.parameters {
            if GradientCheck.check(p.value, gradient: p.grad, p.name, skipIfZero: true, loss: loss) != nil { checked.append(p.name) }
        }
        for name in mustCheck {
            XCTAssertTrue(checked.contains(name), "\(name) has a gradient that was checked (checked: \(checked))", file: file, line: line)
        }
    }

    /// The fold tokens reach the window: changing an item inside a fold changes the window's outputs, and
    /// changing the second sequence's folds leaves the first sequence alone.
    func testFoldsReachTheWindow() {
        for encoder in [Self.hstu(), Self.sasrec(), Self.bert4rec()] { checkFoldsReachTheWindow(encoder) }
    }

    func checkFoldsReachTheWindow(_ encoder: FoldedEncoder) {
        let shape = Self.shape
        var x = Self.inputs(shape), noDropout: RandomSource? = nil
        encoder.forward(x, rng: &noDropout)
        let before = encoder.output.array
        x.foldIds[2 * 3] = 5  // the second sequence's only fold
        encoder.forward(x, rng: &noDropout)
        let after = encoder.output.array
        XCTAssertNotEqual(Array(after[(6 * 8)..<(8 * 8)]), Array(before[(6 * 8)..<(8 * 8)]), "window of sequence 2 sees its fold")
        XCTAssertEqual(Array(after[0..<(5 * 8)]), Array(before[0..<(5 * 8)]), "sequence 1 is untouched")
    }
}
