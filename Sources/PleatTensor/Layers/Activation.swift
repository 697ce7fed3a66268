import Foundation

/// Element-wise non-linearities. Backward takes the forward input x and overwrites dx.
public enum Activation: String, Sendable, Codable {
    case relu, gelu, silu

    public func forward(_ x: Tensor, into y: Tensor) {
        let xp = x.pointer, yp = y.pointer
        Parallel.forRows(x.count, minimumPerWorker: 16_384) { range in
            switch self {
            case .relu: for i in range { yp[i] = max(xp[i], 0) }
            case .gelu: VectorMath.geluRow(xp + range.lowerBound, into: yp + range.lowerBound, count: range.count)
            case .silu: VectorMath.siluRow(xp + range.lowerBound, into: yp + range.lowerBound, count: range.count, visible: range.count, scale: 1)
            }
        }
    }

    /// dx = dy ⊙ f′(x).
    public func backward(_ x: Tensor, _ dy: Tensor, dx: Tensor) {
        let xp = x.pointer, dyp = dy.pointer, dxp = dx.pointer
        Parallel.forRows(x.count, minimumPerWorker: 16_384) { range in
            switch self {
            case .relu: for i in range { dxp[i] = xp[i] > 0 ? dyp[i] : 0 }
            case .gelu: VectorMath.geluGradientRow(xp + range.lowerBound, dyp + range.lowerBound, into: dxp + range.lowerBound, count: range.count)
            case .silu:
                // σ(x)(1 + x(1 − σ(x)))
                (dxp + range.lowerBound).update(from: dyp + range.lowerBound, count: range.count)
                VectorMath.siluGradientRow(xp + range.lowerBound, dxp + range.lowerBound, count: range.count, visible: range.count, scale: 1)
            }
        }
    }

    /// Stable logistic function.
    @inline(__always) public static func sigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + expf(-x)) }
        let e = expf(x)
        return e / (1 + e)
    }
}
