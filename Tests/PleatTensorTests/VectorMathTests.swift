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
