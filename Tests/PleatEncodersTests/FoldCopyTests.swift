import XCTest
import PleatCore
import PleatTensor
@testable import PleatEncoders

/// The folded encoder can learn to use a fold: the window is noise, and the target is the item held in
/// the fold keyed 1 (the other fold is noise too). Only the fold path can carry the answer.
final class FoldCopyTests: XCTestCase {
    func testFoldedEncoderLearnsToReadItsFolds() throws {
        var c = HSTUConfig()
        (c.items, c.dimension, c.heads, c.blocks, c.maxLength, c.dropout) = (30, 32, 2, 2, 4, 0.0)
        var shape = FoldedEncoder.Shape()
        (shape.groups, shape.groupLength, shape.keys) = (2, 3, 2)
        let batch = 32
        let enc = FoldedEncoder(hstu: c, shape: shape, batch: batch, seed: 1)
        let adam = Adam(enc.store)
        adam.beta2 = 0.98
        let loss = SampledSoftmax(temperature: 0.05, normalize: true, maskCollisions: true)
        var rng = RandomSource(seed: 3)
        let n = shape.groups + c.maxLength
        let negatives = (1...30).map { Int32($0) }
        let rows = Tensor([batch, c.dimension]), dRows = Tensor([batch, c.dimension])
        var first = 0.0, last = 0.0
        for step in 0..<80 {
            var x = FoldedEncoder.Inputs(batch: batch, shape: shape, window: c.maxLength)
            var labels = [Int32](repeating: 0, count: batch)
            for b in 0..<batch {
                let home = Int32(1 + rng.below(10))
                labels[b] = home
                x.foldCounts[b] = 2; x.lengths[b] = Int32(n)
                for i in 0..<c.maxLength { x.ids[b * n + 2 + i] = Int32(11 + rng.below(20)) }
                for i in 0..<(n + 1) { x.timestamps[b * (n + 1) + i] = Int64(i * 100) }
                // fold 0: noise, fold 1: home item
                x.foldIds[(b * 2) * 3] = Int32(11 + rng.below(20)); x.foldLengths[b * 2] = 1; x.foldKeys[b * 2] = 2
                x.foldIds[(b * 2 + 1) * 3] = home; x.foldLengths[b * 2 + 1] = 1; x.foldKeys[b * 2 + 1] = 1
            }
            enc.store.zeroGrad()
            var dr: RandomSource? = rng.split(UInt64(step))
            enc.forward(x, rng: &dr)
            let d = c.dimension
            for b in 0..<batch { (rows.pointer + b * d).update(from: enc.output.pointer + (b * n + n - 1) * d, count: d) }
            let value = loss.lossAndGradient(query: rows, table: enc.items.table, labels: labels, negatives: negatives, dQuery: dRows)
            enc.outputGradient.zero()
            for b in 0..<batch { (enc.outputGradient.pointer + (b * n + n - 1) * d).update(from: dRows.pointer + b * d, count: d) }
            enc.backward()
            adam.update(lr: 3e-3)
            if step == 0 { first = value }
            last = value
        }
        print("fold copy: loss \(first) at the first step, \(last) after 80")
        XCTAssertLessThan(last, 0.05, "the fold's item is predicted (chance would be ln 31 ≈ 3.4)")
        XCTAssertLessThan(last, first / 50)
    }
}
