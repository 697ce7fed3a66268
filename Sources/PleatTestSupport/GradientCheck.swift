import XCTest
import PleatCore
import PleatTensor

/// Central-difference gradient checks for Float32 kernels.
///
/// The loss is L = Σ w ⊙ y with fixed random weights w, so the analytic gradient is backward(dy = w).
/// Stated tolerance: relative error max|a − n| / (max|a| + max|n|) below 5e-4 at one of `steps` (why in
/// its comment; the numpy oracle in shared/reference checks the same formulas in Float64).
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

    /// Steps of the numerical gradient, tried in this order until one agrees with the analytic gradient.
    ///
    /// The numerical gradient has two errors that move in opposite directions with h: truncation
    /// (O(h⁴) for the five-point stencil; it depends on the function, not the machine) and the Float32
    /// rounding of the loss divided by h (its size is the same on any BLAS kernel, its sign and exact
    /// value depend on the kernel's summation order). A wrong gradient is wrong by the same amount at every
    /// h. So the check takes the smallest error over steps spanning 16×: measured over the Prescott,
    /// Sandybridge, Haswell, SkylakeX and Cooperlake kernels, the largest such error of the 144 checks was
    /// 1.43·10⁻⁴, so the tolerance of 5·10⁻⁴ leaves more than 3× for other kernels, while a gradient off by
    /// 0.2% still fails at every step.
    public static let steps: [Float] = [4e-3, 1.6e-2, 1e-3]

    /// Numerical gradient of `loss` with respect to every element of `tensor` (perturbed in place), by the
    /// five-point stencil (−L(x+2h) + 8L(x+h) − 8L(x−h) + L(x−2h)) / 12h.
    public static func numeric(_ tensor: Tensor, h: Float = steps[0], loss: () -> Double) -> [Double] {
        (0..<tensor.count).map { i in
            let saved = tensor[i]
            func at(_ offset: Float) -> Double {
                tensor[i] = saved + offset
                return loss()
            }
            let estimate = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * Double(h))
            tensor[i] = saved
            return estimate
        }
    }

    /// Checks `analytic`, the gradient of `loss` with respect to `tensor`, against numerical gradients
    /// (`steps`); fails when none is within `tolerance` or the gradient is trivially zero. Returns the
    /// numerical gradient at the first step, or nil without checking when `skipIfZero` and it is zero
    /// (e.g. embedding rows no input uses).
    @discardableResult
    public static func check(_ tensor: Tensor, gradient analytic: Tensor, _ what: String, skipIfZero: Bool = false,
                             file: StaticString = #filePath, line: UInt = #line, loss: () -> Double) -> [Double]? {
        let first = numeric(tensor, h: steps[0], loss: loss)
        let largest = first.map(abs).max() ?? 0
        if skipIfZero && largest <= 1e-4 { return nil }
        XCTAssertGreaterThan(largest, 1e-4, "\(what): gradient is trivially zero", file: file, line: line)
        var errors = [relativeError(analytic.array, first)]
        let report = ProcessInfo.processInfo.environment["PLEAT_GRADIENT_REPORT"] != nil  // every step, and print them
        for h in steps.dropFirst() where report || errors.min() ?? 0 >= tolerance {
            errors.append(relativeError(analytic.array, numeric(tensor, h: h, loss: loss)))
        }
        let error = errors.min() ?? .infinity  // never empty: the first step's error is in it
        let tried = zip(steps, errors).map { String(format: "%.1e: %.2e", $0, $1) }.joined(separator: ", ")
        XCTAssertLessThan(error, tolerance, "\(what): relative error at each step h (\(tried))", file: file, line: line)
        if report { print("gradient check \(what): \(tried)") }
        return first
    }

    public static func relativeError(_ analytic: [Float], _ numeric: [Double]) -> Double {
        var diff = 0.0, a = 0.0, n = 0.0
        for (x, y) in zip(analytic, numeric) {
            diff = max(diff, abs(Double(x) - y)); a = max(a, abs(Double(x))); n = max(n, abs(y))
        }
        return diff / max(a + n, 1e-12)
    }

}
