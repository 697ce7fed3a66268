import XCTest
import PleatCore
import PleatTensor

/// Central-difference gradient checks for Float32 kernels.
///
/// The loss is L = Σ w ⊙ y with fixed random weights w, so the analytic gradient is backward(dy = w).
/// Stated tolerance: relative error max|a − n| / (max|a| + max|n|) below 5e-4 with h = 5e-3 (seen: 1e-6 to 6e-5; Float32
/// rounding limits how close central differences can get; the numpy oracle in shared/reference checks
/// the same formulas in Float64).
public enum GradientCheck {
    public static let tolerance = 5e-4

    public static func random(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var rng = RandomSource(seed: seed)
        let t = Tensor(shape)
        for i in 0..<t.count { t[i] = Float(rng.normal()) * scale }
        return t
    }

    /// Σ w ⊙ y in Double.
    public static func weightedSum(_ y: Tensor, _ w: Tensor) -> Double {
        var s = 0.0
        for i in 0..<y.count { s += Double(y[i]) * Double(w[i]) }
        return s
    }

    /// Numerical gradient of `loss` with respect to every element of `tensor` (perturbed in place).
    public static func numeric(_ tensor: Tensor, h: Float = 5e-3, loss: () -> Double) -> [Double] {
        (0..<tensor.count).map { i in
            let saved = tensor[i]
            tensor[i] = saved + h
            let plus = loss()
            tensor[i] = saved - h
            let minus = loss()
            tensor[i] = saved
            return (plus - minus) / (2 * Double(h))
        }
    }

    public static func relativeError(_ analytic: [Float], _ numeric: [Double]) -> Double {
        var diff = 0.0, a = 0.0, n = 0.0
        for (x, y) in zip(analytic, numeric) {
            diff = max(diff, abs(Double(x) - y)); a = max(a, abs(Double(x))); n = max(n, abs(y))
        }
        return diff / max(a + n, 1e-12)
    }

    public static func assertClose(_ analytic: Tensor, _ numeric: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let error = relativeError(analytic.array, numeric)
        XCTAssertLessThan(error, tolerance, "\(what): relative error \(error)", file: file, line: line)
        XCTAssertGreaterThan(numeric.map(abs).max() ?? 0, 1e-4, "\(what): gradient is trivially zero", file: file, line: line)
    }
}
