import XCTest
import PleatCore
@testable import PleatTensor
import PleatTestSupport

final class LossGradientTests: XCTestCase {
    private func table(_ store: ParameterStore, rows: Int, d: Int, seed: UInt64) -> Parameter {
        let p = store.make("items", shape: [rows, d])
        var rng = RandomSource(seed: seed)
        Initializer.normal(p.value, std: 1, rng: &rng)
        return p
    }

    func testFullSoftmaxCrossEntropyMatchesNaiveAndGradients() {
        let store = ParameterStore()
        let items = table(store, rows: 11, d: 4, seed: 31)
        let bias = store.make("bias", shape: [11])
        var rng = RandomSource(seed: 32)
        Initializer.normal(bias.value, std: 1, rng: &rng)
        let hidden = GradientCheck.random([7, 4], seed: 33)
        let labels: [Int32] = [3, 0, -1, 10, 5, 5, 2]   // row 2 is not supervised
        let weights: [Float] = [1, 2, 1, 0.5, 1, 1, 3]
        let dHidden = Tensor([7, 4])
        let loss = SoftmaxCrossEntropy(rowBlock: 3)  // several blocks, over both workers
        func value() -> Double {
            let scratch = Tensor([7, 4])
            let saved = items.grad.array, savedBias = bias.grad.array
            defer {
                items.grad.buffer.update(fromContentsOf: saved)
                bias.grad.buffer.update(fromContentsOf: savedBias)
            }
            return loss.lossAndGradient(hidden: hidden, table: items, bias: bias, labels: labels, weights: weights, dHidden: scratch)
        }
        // Naive reference in Double.
        var expected = 0.0, total = 0.0
        for r in 0..<7 where labels[r] >= 0 {
            var z = [Double](repeating: 0, count: 11)
            for j in 0..<11 {
                var dot = Double(bias.value[j])
                for i in 0..<4 { dot += Double(hidden[r * 4 + i]) * Double(items.value[j * 4 + i]) }
                z[j] = dot
            }
            let m = z.max()!
            let lse = m + log(z.reduce(0.0) { $0 + exp($1 - m) })
            expected += Double(weights[r]) * (lse - z[Int(labels[r])])
            total += Double(weights[r])
        }
        XCTAssertEqual(value(), expected / total, accuracy: 1e-5)
        _ = loss.lossAndGradient(hidden: hidden, table: items, bias: bias, labels: labels, weights: weights, dHidden: dHidden)
        GradientCheck.check(hidden, gradient: dHidden, "CE dT", loss: value)
        GradientCheck.check(items.value, gradient: items.grad, "CE dE", loss: value)
        GradientCheck.check(bias.value, gradient: bias.grad, "CE db", loss: value)
        XCTAssertEqual(Array(dHidden.array[8..<12]), [0, 0, 0, 0], "unsupervised rows get no gradient")
    }

    func testSampledSoftmaxNormalisedWithCollisionMaskingAndPlain() {
        for loss in [SampledSoftmax(temperature: 0.5), SampledSoftmax(temperature: 1, normalize: false, maskCollisions: false)] {
            let store = ParameterStore()
            let items = table(store, rows: 9, d: 5, seed: 41)
            let raw = GradientCheck.random([4, 5], seed: 42)
            let query = Tensor([4, 5]), norms = Tensor([4])
            L2Normalize.forward(raw, into: query, norms: norms)
            let labels: [Int32] = [1, 4, -1, 6]
            let negatives: [Int32] = [2, 4, 7, 8, 3]      // 4 collides with row 1's label
            let dQuery = Tensor([4, 5])
            func value() -> Double {
                let saved = items.grad.array
                defer { items.grad.buffer.update(fromContentsOf: saved) }
                return loss.lossAndGradient(query: query, table: items, labels: labels, negatives: negatives, dQuery: Tensor([4, 5]))
            }
            _ = loss.lossAndGradient(query: query, table: items, labels: labels, negatives: negatives, dQuery: dQuery)
            GradientCheck.check(query, gradient: dQuery, "sampled softmax dq (normalize: \(loss.normalize))", loss: value)
            GradientCheck.check(items.value, gradient: items.grad, "sampled softmax dE (normalize: \(loss.normalize))", loss: value)
            XCTAssertEqual(Array(items.grad.array[0..<5]), [0, 0, 0, 0, 0], "untouched rows get no gradient")
        }
    }

    /// SASRec's sampled softmax: raw dot products at a temperature, accidental hits masked, and the logQ
    /// correction of a non-uniform sampler subtracted from every logit. Offsets equal for every item
    /// (a uniform sampler) change nothing; others change the loss, and the gradient still checks.
    func testSampledSoftmaxWithLogQCorrection() {
        let loss = SampledSoftmax(temperature: 0.7, normalize: false, maskCollisions: true)
        let store = ParameterStore()
        let items = table(store, rows: 9, d: 5, seed: 61)
        let query = GradientCheck.random([4, 5], seed: 62)
        let labels: [Int32] = [1, 4, -1, 4]
        let negatives: [Int32] = [4, 2, 4, 8, 3, 8]           // drawn with replacement, so repeats
        let logCount: [Float] = [0, -1.2, -0.4, 0.3, 0.9, 0, 0, 0, -2.0]   // log(expected count) by item
        let negativeOffsets = negatives.map { logCount[Int($0)] }, positiveOffsets = labels.map { logCount[Int(max($0, 0))] }
        func run(_ neg: [Float]?, _ pos: [Float]?, _ dQuery: Tensor) -> Double {
            loss.lossAndGradient(query: query, table: items, labels: labels, negatives: negatives,
                                 negativeOffsets: neg, positiveOffsets: pos, dQuery: dQuery)
        }
        func value() -> Double {
            let saved = items.grad.array
            defer { items.grad.buffer.update(fromContentsOf: saved) }
            return run(negativeOffsets, positiveOffsets, Tensor([4, 5]))
        }
        let plain = run(nil, nil, Tensor([4, 5]))
        let constant = run([Float](repeating: 0.8, count: 6), [Float](repeating: 0.8, count: 4), Tensor([4, 5]))
        XCTAssertEqual(plain, constant, accuracy: 1e-6, "a uniform sampler's correction is a constant")
        items.grad.zero()
        let dQuery = Tensor([4, 5])
        let corrected = run(negativeOffsets, positiveOffsets, dQuery)
        XCTAssertGreaterThan(abs(corrected - plain), 1e-3, "a popularity sampler's correction matters")
        GradientCheck.check(query, gradient: dQuery, "corrected sampled softmax dq", loss: value)
        GradientCheck.check(items.value, gradient: items.grad, "corrected sampled softmax dE", loss: value)
    }

    /// Negatives drawn per row (column 0 the positive), through ItemScores: matches a naive Double
    /// softmax with the collision masked, and its gradient checks for the hidden states and the table.
    func testPerRowSampledSoftmaxThroughItemScores() {
        let loss = SampledSoftmax(temperature: 0.6, normalize: false, maskCollisions: true)
        let store = ParameterStore()
        let items = table(store, rows: 9, d: 5, seed: 71)
        let hidden = GradientCheck.random([4, 5], seed: 72)
        // Row 1: a negative equals the positive. Row 3: no target (positive 0, as the repeat head leaves a
        // position whose target is the user's own item): out of the loss and its mean.
        let ids: [Int32] = [1, 4, 2, 8,   4, 4, 3, 3,   6, 7, 1, 2,   0, 5, 6, 7]
        let columns = 4
        var scores: [Float] = [], gradient: [Float] = []
        func run(_ dHidden: Tensor) -> Double {
            ItemScores.forward(hidden: hidden, table: items, ids: ids, columns: columns, into: &scores)
            let value = loss.lossAndGradient(scores: scores, ids: ids, columns: columns, gradient: &gradient)
            dHidden.zero()
            ItemScores.backward(hidden: hidden, table: items, ids: ids, columns: columns, dScores: gradient, dHidden: dHidden)
            return value
        }
        func value() -> Double {
            let saved = items.grad.array
            defer { items.grad.buffer.update(fromContentsOf: saved) }
            return run(Tensor([4, 5]))
        }
        var expected = 0.0
        for r in 0..<3 {
            let z = (0..<columns).map { c -> Double in
                var dot = 0.0
                for i in 0..<5 { dot += Double(hidden[r * 5 + i]) * Double(items.value[Int(ids[r * columns + c]) * 5 + i]) }
                return dot / 0.6
            }
            let kept = (0..<columns).filter { $0 == 0 || ids[r * columns + $0] != ids[r * columns] }.map { z[$0] }
            let m = kept.max()!
            expected += m + log(kept.reduce(0.0) { $0 + exp($1 - m) }) - z[0]
        }
        XCTAssertEqual(value(), expected / 3, accuracy: 1e-5)
        let dHidden = Tensor([4, 5])
        _ = run(dHidden)
        XCTAssertEqual(gradient[5], 0, "a masked collision gets no gradient")
        XCTAssertEqual(Array(gradient[12..<16]), [0, 0, 0, 0], "a row without a target gets no gradient")
        XCTAssertEqual((0..<5).map { dHidden[15 + $0] }, [0, 0, 0, 0, 0])
        GradientCheck.check(hidden, gradient: dHidden, "per-row sampled softmax dh", loss: value)
        GradientCheck.check(items.value, gradient: items.grad, "per-row sampled softmax dE", loss: value)
    }

    func testBCEAndGBCEThroughItemScores() {
        let store = ParameterStore()
        let items = table(store, rows: 8, d: 3, seed: 51)
        let hidden = GradientCheck.random([3, 3], seed: 52)
        let ids: [Int32] = [1, 5, 6, 2, 7, 7, 3, 0, 4]   // per row: positive, then two negatives
        let weights: [Float] = [1, 1, 0]
        XCTAssertEqual(BinaryCrossEntropy.gbceBeta(negatives: 256, items: 3416, t: 0.75), 0.3062, accuracy: 1e-3)
        for criterion in [BinaryCrossEntropy(), BinaryCrossEntropy(beta: 0.4, meanOverTerms: true)] {
            items.grad.zero()
            var scores: [Float] = [], dScores: [Float] = []
            func value() -> Double {
                var s: [Float] = [], g: [Float] = []
                ItemScores.forward(hidden: hidden, table: items, ids: ids, columns: 3, into: &s)
                return criterion.lossAndGradient(scores: s, columns: 3, weights: weights, gradient: &g)
            }
            ItemScores.forward(hidden: hidden, table: items, ids: ids, columns: 3, into: &scores)
            _ = criterion.lossAndGradient(scores: scores, columns: 3, weights: weights, gradient: &dScores)
            let dHidden = Tensor([3, 3])
            ItemScores.backward(hidden: hidden, table: items, ids: ids, columns: 3, dScores: dScores, dHidden: dHidden)
            GradientCheck.check(hidden, gradient: dHidden, "BCE dh (β \(criterion.beta))", loss: value)
            GradientCheck.check(items.value, gradient: items.grad, "BCE dE (β \(criterion.beta))", loss: value)
        }
    }
}
