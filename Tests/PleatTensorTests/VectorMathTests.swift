import Foundation
import XCTest
@testable import PleatTensor

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
}
