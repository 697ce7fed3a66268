import XCTest
import PleatCore
@testable import PleatTensor
import PleatTestSupport

final class LayerGradientTests: XCTestCase {
    func testGemmMatchesNaiveProductForEveryTransposition() {
        let m = 5, n = 7, k = 3
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = GradientCheck.random(ta ? [k, m] : [m, k], seed: 1)
            let b = GradientCheck.random(tb ? [n, k] : [k, n], seed: 2)
            let c = Tensor([m, n])
            Gemm.multiply(a.pointer, transposeA: ta, b.pointer, transposeB: tb, into: c.pointer, m: m, n: n, k: k)
            for i in 0..<m {
                for j in 0..<n {
                    var s: Float = 0
                    for p in 0..<k { s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]) }
                    XCTAssertEqual(c[i * n + j], s, accuracy: 1e-5)
                }
            }
        }
    }

    /// ParameterDropout: every reader of the step sees θ ⊙ m/(1 − p) (here twice, through a nonlinear
    /// loss), and `restore` turns the gradient taken against the dropped copy into the gradient in θ;
    /// checked against central differences with the mask held fixed (same seed), and the values put back.
    func testParameterDropoutGradientAndRestore() {
        let store = ParameterStore()
        let table = store.make("table", shape: [6, 4])
        var init_ = RandomSource(seed: 3)
        Initializer.normal(table.value, std: 0.7, rng: &init_)
        let original = table.value.array
        let w = GradientCheck.random([6, 4], seed: 4), drop = ParameterDropout(0.4, shape: [6, 4])
        // L = Σ w ⊙ tanh(D) + ½ Σ_j (Σ_i D_ij)², D the dropped table.
        func lossAndGradient() -> Double {
            var rng: RandomSource? = RandomSource(seed: 5)
            drop.apply(table, rng: &rng)
            let d = table.value
            var loss = 0.0, columns = [Float](repeating: 0, count: 4)
            for r in 0..<6 { for c in 0..<4 { loss += Double(w[r * 4 + c] * tanh(d[r * 4 + c])); columns[c] += d[r * 4 + c] } }
            for c in 0..<4 { loss += 0.5 * Double(columns[c] * columns[c]) }
            table.grad.zero()
            for r in 0..<6 { for c in 0..<4 { let t = tanh(d[r * 4 + c]); table.grad[r * 4 + c] = w[r * 4 + c] * (1 - t * t) + columns[c] } }
            drop.restore(table)
            return loss
        }
        _ = lossAndGradient()
        XCTAssertEqual(table.value.array, original, "values put back")
        let analytic = Tensor([6, 4]); analytic.copy(from: table.grad)
        let zeros = (0..<24).filter { analytic[$0] == 0 }.count
        XCTAssertGreaterThan(zeros, 0, "some entries dropped at p = 0.4")
        XCTAssertLessThan(zeros, 24, "some entries kept")
        GradientCheck.check(table.value, gradient: analytic, "dropped table", loss: lossAndGradient)
        var none: RandomSource? = nil
        drop.apply(table, rng: &none)
        XCTAssertEqual(table.value.array, original, "evaluation (no generator) leaves the values alone")
    }

    /// Dropout draws four entries from each 64-bit draw: over 10⁶ entries (and a tail of 3) the kept share
    /// is the keep probability within 5 standard deviations (0.002), kept entries are scaled by 1/keep,
    /// and y = x ⊙ m, in place too.
    func testDropoutKeepsItsShareAndScales() {
        for p: Float in [0.1, 0.5] {
            let count = 1_000_003, keep = 1 - p
            var x = (0..<count).map { Float($0 % 7) - 3 }, y = [Float](repeating: 0, count: count), m = y
            var rng = RandomSource(seed: 5)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in m.withUnsafeMutableBufferPointer { mp in
                Dropout.apply(xp.baseAddress!, into: yp.baseAddress!, mask: mp.baseAddress!, count: count, keep: keep, rng: &rng)
            } } }
            let kept = m.filter { $0 != 0 }
            XCTAssertEqual(Double(kept.count) / Double(count), Double(keep), accuracy: 0.002)
            XCTAssertEqual(Set(kept), [1 / keep])
            XCTAssertTrue((0..<count).allSatisfy { y[$0] == x[$0] * m[$0] })
            let original = x
            x.withUnsafeMutableBufferPointer { xp in m.withUnsafeMutableBufferPointer { mp in
                Dropout.apply(xp.baseAddress!, into: xp.baseAddress!, mask: mp.baseAddress!, count: count, keep: keep, rng: &rng)
            } }
            XCTAssertTrue((0..<count).allSatisfy { x[$0] == original[$0] * m[$0] }, "in place")
        }
    }

    func testLinear() {
        let store = ParameterStore()
        let layer = Linear(store, "fc", inputs: 6, outputs: 4)
        var rng = RandomSource(seed: 3)
        Initializer.normal(layer.weight.value, std: 0.5, rng: &rng)
        Initializer.normal(layer.bias!.value, std: 0.5, rng: &rng)
        let x = GradientCheck.random([5, 6], seed: 4), w = GradientCheck.random([5, 4], seed: 5)
        let y = Tensor([5, 4]), dx = Tensor([5, 6])
        func loss() -> Double { layer.forward(x, into: y); return GradientCheck.weightedSum(y, w) }
        _ = loss()
        layer.backward(x, w, dx: dx)
        GradientCheck.check(x, gradient: dx, "dx", loss: loss)
        GradientCheck.check(layer.weight.value, gradient: layer.weight.grad, "dW", loss: loss)
        GradientCheck.check(layer.bias!.value, gradient: layer.bias!.grad, "db", loss: loss)
    }

    func testLayerNormWithAndWithoutAffineParameters() {
        for affine in [true, false] {
            let store = ParameterStore()
            let norm = LayerNorm(store, "ln", features: 8, epsilon: 1e-6, affine: affine)
            if affine {
                var rng = RandomSource(seed: 6)
                Initializer.normal(norm.gain!.value, std: 1, rng: &rng)
                Initializer.normal(norm.shift!.value, std: 1, rng: &rng)
            }
            let x = GradientCheck.random([3, 8], seed: 7, scale: 2), w = GradientCheck.random([3, 8], seed: 8)
            let y = Tensor([3, 8]), xhat = Tensor([3, 8]), rstd = Tensor([3]), dx = Tensor([3, 8])
            func loss() -> Double { norm.forward(x, into: y, normalized: xhat, rstd: rstd); return GradientCheck.weightedSum(y, w) }
            _ = loss()
            norm.backward(w, normalized: xhat, rstd: rstd, dx: dx)
            GradientCheck.check(x, gradient: dx, "LayerNorm dx (affine: \(affine))", loss: loss)
            if affine {
                GradientCheck.check(norm.gain!.value, gradient: norm.gain!.grad, "dγ", loss: loss)
                GradientCheck.check(norm.shift!.value, gradient: norm.shift!.grad, "dβ", loss: loss)
            } else {
                // Each row of the output has mean 0 and variance 1.
                let row = Array(y.array[0..<8])
                XCTAssertEqual(row.reduce(0, +) / 8, 0, accuracy: 1e-5)
                XCTAssertEqual(row.map { $0 * $0 }.reduce(0, +) / 8, 1, accuracy: 1e-3)
            }
        }
    }

    func testActivations() {
        for activation in [Activation.relu, .gelu, .silu] {
            // Keep ReLU's inputs away from its kink at 0.
            let x = GradientCheck.random([4, 9], seed: 9, scale: 2)
            for i in 0..<x.count where abs(x[i]) < 0.05 { x[i] += 0.1 }
            let w = GradientCheck.random([4, 9], seed: 10)
            let y = Tensor([4, 9]), dx = Tensor([4, 9])
            func loss() -> Double { activation.forward(x, into: y); return GradientCheck.weightedSum(y, w) }
            _ = loss()
            activation.backward(x, w, dx: dx)
            GradientCheck.check(x, gradient: dx, "\(activation)", loss: loss)
        }
        let x = Tensor([3], values: [-1, 0, 2]), y = Tensor([3])
        Activation.gelu.forward(x, into: y)
        // The erf form, not the tanh approximation (which is 1.0·10⁻⁴ off at x = 2); the vectorised erf is
        // within 5·10⁻⁷ of libm's.
        for (value, exact) in zip(y.array, [Float(-0.15865525), 0, 1.9544997]) { XCTAssertEqual(value, exact, accuracy: 1e-6, "exact GELU values") }
    }

    func testSoftmaxAndL2Normalize() {
        let x = GradientCheck.random([3, 7], seed: 11, scale: 2), w = GradientCheck.random([3, 7], seed: 12)
        let y = Tensor([3, 7]), dx = Tensor([3, 7]), norms = Tensor([3])
        func softmaxLoss() -> Double { Softmax.forward(x, into: y); return GradientCheck.weightedSum(y, w) }
        _ = softmaxLoss()
        XCTAssertEqual(y.array[0..<7].reduce(0, +), 1, accuracy: 1e-6)
        Softmax.backward(y, w, dx: dx)
        GradientCheck.check(x, gradient: dx, "softmax", loss: softmaxLoss)

        func l2Loss() -> Double { L2Normalize.forward(x, into: y, norms: norms); return GradientCheck.weightedSum(y, w) }
        _ = l2Loss()
        XCTAssertEqual(y.array[0..<7].map { $0 * $0 }.reduce(0, +), 1, accuracy: 1e-5)
        L2Normalize.backward(y, norms: norms, w, dx: dx)
        GradientCheck.check(x, gradient: dx, "L2 normalise", loss: l2Loss)
    }

    func testEmbeddingGatherAndScatterAddWithRepeatsAndPadding() {
        let store = ParameterStore()
        let table = Embedding(store, "items", rows: 5, dimension: 3, paddingId: 0)
        var rng = RandomSource(seed: 13)
        Initializer.normal(table.table.value, std: 1, rng: &rng)
        let ids: [Int32] = [2, 0, 4, 2, 1]
        let w = GradientCheck.random([5, 3], seed: 14), y = Tensor([5, 3])
        ids.withUnsafeBufferPointer { ids in
            func loss() -> Double { table.forward(ids, scale: 1.5, into: y); return GradientCheck.weightedSum(y, w) }
            _ = loss()
            XCTAssertEqual(Array(y.array[3..<6]), [0, 0, 0], "padding reads as zeros")
            table.backward(ids, scale: 1.5, w)
            GradientCheck.check(table.table.value, gradient: table.table.grad, "embedding", loss: loss)
            XCTAssertEqual(Array(table.table.grad.array[0..<3]), [0, 0, 0], "no gradient for padding")
            XCTAssertEqual(table.table.grad[6], 1.5 * (w[0] + w[9]), accuracy: 1e-6, "repeats accumulate")
        }
    }

    func testDropoutScalesKeptValuesAndReusesTheMask() {
        let dropout = Dropout(0.25)
        let x = Tensor([10_000]); x.fill(1)
        let y = Tensor([10_000]), mask = Tensor([10_000]), dx = Tensor([10_000])
        var rng: RandomSource? = RandomSource(seed: 15)
        dropout.forward(x, into: y, mask: mask, rng: &rng)
        let kept = y.array.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 10_000, 0.75, accuracy: 0.02)
        XCTAssertTrue(kept.allSatisfy { abs($0 - 4.0 / 3.0) < 1e-6 })
        dropout.backward(x, mask: mask, dx: dx)
        XCTAssertEqual(dx.array, y.array, "backward applies the same mask")
        var evaluation: RandomSource? = nil
        dropout.forward(x, into: y, mask: mask, rng: &evaluation)
        XCTAssertEqual(y.array, x.array, "no dropout at evaluation")
    }
}
