import Foundation
import XCTest
@testable import PleatTensor
import CPleatKernels
import PleatCore

final class VectorMathTests: XCTestCase {
    func testVectorExpMatchesLibm() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let lanes = VectorMath.Lanes((0..<8).map { x + Float($0) * 0.0137 })
            let e = VectorMath.exp(lanes)
            for i in 0..<8 { worst = max(worst, abs(e[i] - Foundation.exp(lanes[i])) / Foundation.exp(lanes[i])) }
            x += 0.37
        }
        XCTAssertLessThan(worst, 5e-7, "max relative error \(worst)")
        XCTAssertEqual(VectorMath.exp(VectorMath.Lanes(repeating: -200))[0], 0)
        XCTAssertEqual(VectorMath.exp(VectorMath.Lanes(repeating: 0))[0], 1)
    }

    /// The vectorised erf against libm's over the range where it is not saturated, and GELU with it.
    func testVectorErfAndGELUMatchLibm() {
        var worst: Float = 0, worstGELU: Float = 0
        var x: Float = -6
        while x < 6 {
            let lanes = VectorMath.Lanes((0..<8).map { x + Float($0) * 0.0011 })
            let e = VectorMath.erf(lanes)
            for i in 0..<8 { worst = max(worst, abs(e[i] - Foundation.erf(lanes[i]))) }
            var row = (0..<8).map { lanes[$0] }, out = [Float](repeating: 0, count: 8)
            row.withUnsafeMutableBufferPointer { r in out.withUnsafeMutableBufferPointer { VectorMath.geluRow(r.baseAddress!, into: $0.baseAddress!, count: 8) } }
            for i in 0..<8 {
                let exact = Double(row[i]) * 0.5 * (1 + Foundation.erf(Double(row[i]) / 2.0.squareRoot()))
                worstGELU = max(worstGELU, Float(abs(Double(out[i]) - exact) / max(1, abs(exact))))
            }
            x += 0.0093
        }
        XCTAssertLessThan(worst, 5e-7, "max absolute error of erf \(worst)")
        XCTAssertLessThan(worstGELU, 1e-6, "max error of GELU \(worstGELU)")
        XCTAssertEqual(VectorMath.erf(VectorMath.Lanes(repeating: 0))[0], 0, accuracy: 1e-7)
        XCTAssertEqual(VectorMath.erf(VectorMath.Lanes(repeating: -9))[0], -1)
    }

    func testRowHelpersHandleTails() {
        var row: [Float] = (0..<13).map { Float($0) * 0.5 - 2 }
        let m = row.withUnsafeBufferPointer { VectorMath.maximum($0.baseAddress!, count: 13) }
        XCTAssertEqual(m, 4)
        let expected = row.map { Foundation.exp($0 - 4) }
        let sum = row.withUnsafeMutableBufferPointer { VectorMath.expShiftAndSum($0.baseAddress!, count: 13, shift: 4) }
        XCTAssertEqual(sum, expected.reduce(0, +), accuracy: 1e-5)
        for (a, b) in zip(row, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    /// The 16-lane AVX-512 row kernels (CPleatKernels) against the 8-lane Swift ones, over rows of every
    /// length from 0 to 70 (full vectors and tails) and values from −100 to 100 (both exp clamps): the
    /// element-wise kernels must give the same bits (the same operations in the same order), and the
    /// exp-shift-and-sum the same elements and a sum within float rounding of a reordered sum (a row's
    /// terms are at most 1, so 70 · 2⁻²³ bounds the difference). Skipped on a CPU without AVX-512F.
    func testSixteenLaneKernelsMatchTheEightLaneOnes() throws {
        try XCTSkipUnless(CPU.current.features.contains(.avx512f), "this CPU has no AVX-512F")
        var rng = RandomSource(seed: 11)
        for n in 0...70 {
            let x = (0..<n).map { _ in Float(rng.uniform() * 200 - 100) * (n % 3 == 0 ? 0.05 : 1) }
            let dy = (0..<n).map { _ in Float(rng.uniform() * 2 - 1) }
            let visible = n / 2 + (n % 2)
            func run(_ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
                var out = [Float](repeating: 7, count: n)
                x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { dp in out.withUnsafeMutableBufferPointer { body(xp.baseAddress!, dp.baseAddress!, $0.baseAddress!) } } }
                return out
            }
            XCTAssertEqual(run { VectorMath.siluRow8($0, into: $2, count: n, visible: visible, scale: 0.3) },
                           run { pleat512_silu_row($0, $2, Int32(n), Int32(visible), 0.3) }, "SiLU, n = \(n)")
            XCTAssertEqual(run { $2.update(from: $1, count: n); VectorMath.siluGradientRow8($0, $2, count: n, visible: visible, scale: 0.3) },
                           run { $2.update(from: $1, count: n); pleat512_silu_gradient_row($0, $2, Int32(n), Int32(visible), 0.3) }, "SiLU′, n = \(n)")
            XCTAssertEqual(run { VectorMath.geluRow8($0, into: $2, count: n) }, run { pleat512_gelu_row($0, $2, Int32(n)) }, "GELU, n = \(n)")
            XCTAssertEqual(run { VectorMath.geluGradientRow8($0, $1, into: $2, count: n) },
                           run { pleat512_gelu_gradient_row($0, $1, $2, Int32(n)) }, "GELU′, n = \(n)")
            let m = x.max() ?? 0
            var sum8: Float = 0, sum16: Float = 0
            let e8 = run { $2.update(from: $0, count: n); sum8 = VectorMath.expShiftAndSum8($2, count: n, shift: m) }
            let e16 = run { $2.update(from: $0, count: n); sum16 = pleat512_exp_shift_sum($2, Int32(n), m) }
            XCTAssertEqual(e8, e16, "exp, n = \(n)")
            XCTAssertEqual(sum8, sum16, accuracy: Float(max(n, 1)) * 0x1p-23 * max(sum8, 1), "exp sum, n = \(n)")
        }
    }

    /// Top-K's scan: the first entry above the threshold at either width, NaN and −∞ never above it.
    func testFirstAboveFindsTheFirstEntryAboveTheThresholdAtBothWidths() {
        var rng = RandomSource(seed: 13)
        let wide = CPU.current.features.contains(.avx512f)
        for trial in 0..<400 {
            let n = rng.below(70)
            let row: [Float] = (0..<n).map { _ in
                switch rng.below(12) { case 0: return .nan; case 1: return -.infinity; default: return Float(rng.below(20)) }
            }
            let threshold = Float(rng.below(22))
            let expected = row.firstIndex { $0 > threshold } ?? n
            row.withUnsafeBufferPointer { row in
                let p = row.baseAddress ?? UnsafePointer(bitPattern: 16)!
                XCTAssertEqual(VectorMath.firstAbove8(p, count: n, threshold: threshold), expected, "8 lanes, trial \(trial)")
                if wide { XCTAssertEqual(Int(pleat512_first_above(p, Int32(n), threshold)), expected, "16 lanes, trial \(trial)") }
            }
        }
    }

    /// Adam's 16-lane row update is the 8-lane one bit for bit, with weight decay decoupled or not.
    func testSixteenLaneAdamMatchesTheEightLaneStep() throws {
        try XCTSkipUnless(CPU.current.features.contains(.avx512f), "this CPU has no AVX-512F")
        var rng = RandomSource(seed: 17)
        let adam = Adam(ParameterStore())
        for n in 0...70 {
            for decoupled in [true, false] {
                adam.decoupled = decoupled
                let start = (0..<(4 * n)).map { _ in Float(rng.uniform()) }  // second moments are not negative
                let g = (0..<n).map { _ in Float(rng.uniform() * 2 - 1) * 0.1 }
                var eight = start, sixteen = start
                func parts(_ a: inout [Float], _ body: (Adam.Row) -> Void) {
                    a.withUnsafeMutableBufferPointer { a in
                        g.withUnsafeBufferPointer { g in
                            let p = a.baseAddress ?? UnsafeMutablePointer(bitPattern: 16)!
                            body(Adam.Row(theta: p, gradient: g.baseAddress ?? UnsafePointer(bitPattern: 16)!, first: p + n, second: p + 2 * n, count: n))
                        }
                    }
                }
                parts(&eight) { adam.step($0, lr: 1e-3, wd: 0.1, c1: 0.19, c2: 0.002) }
                parts(&sixteen) {
                    pleat512_adam_row($0.theta, $0.gradient, $0.first, $0.second, Int32(n), adam.beta1, adam.beta2, 1e-3, 0.1,
                                      decoupled ? 1 : 0, 0.19, 0.002, adam.epsilon)
                }
                XCTAssertEqual(eight, sixteen, "n = \(n), decoupled \(decoupled)")
                if n > 0 { XCTAssertNotEqual(eight, start, "n = \(n): the step moved something") }
            }
        }
    }
}
