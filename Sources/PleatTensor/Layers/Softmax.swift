import Foundation

/// Row softmax and L2 row normalisation: the two row-wise normalisers of the models.
public enum Softmax {
    /// y = softmax(x) over each row (y may be x).
    public static func forward(_ x: Tensor, into y: Tensor) {
        let n = x.columns
        Parallel.forRows(x.rows) { range in
            for r in range {
                let xr = x.pointer + r * n, yr = y.pointer + r * n
                var m = -Float.infinity
                for i in 0..<n { m = max(m, xr[i]) }
                var sum: Float = 0
                for i in 0..<n { let e = expf(xr[i] - m); yr[i] = e; sum += e }
                let inv = 1 / sum
                for i in 0..<n { yr[i] *= inv }
            }
        }
    }

    /// dx = y ⊙ (dy − ⟨y, dy⟩), overwriting dx.
    public static func backward(_ y: Tensor, _ dy: Tensor, dx: Tensor) {
        let n = y.columns
        Parallel.forRows(y.rows) { range in
            for r in range {
                let yr = y.pointer + r * n, dyr = dy.pointer + r * n, dxr = dx.pointer + r * n
                var dot: Float = 0
                for i in 0..<n { dot += yr[i] * dyr[i] }
                for i in 0..<n { dxr[i] = yr[i] * (dyr[i] - dot) }
            }
        }
    }
}

/// y = x / max(‖x‖, ε) per row (HSTU outputs and item embeddings in its loss).
public enum L2Normalize {
    public static let epsilon: Float = 1e-6

    /// Saves each row's norm for the backward pass.
    public static func forward(_ x: Tensor, into y: Tensor, norms: Tensor) {
        let n = x.columns
        Parallel.forRows(x.rows) { range in
            for r in range {
                let xr = x.pointer + r * n, yr = y.pointer + r * n
                var s: Float = 0
                for i in 0..<n { s += xr[i] * xr[i] }
                let norm = s.squareRoot()
                norms[r] = norm
                let inv = 1 / max(norm, epsilon)
                for i in 0..<n { yr[i] = xr[i] * inv }
            }
        }
    }

    /// dx = (dy − y⟨y, dy⟩)/‖x‖ when ‖x‖ > ε, else dy/ε (overwrites dx).
    public static func backward(_ y: Tensor, norms: Tensor, _ dy: Tensor, dx: Tensor) {
        let n = y.columns
        Parallel.forRows(y.rows) { range in
            for r in range {
                let yr = y.pointer + r * n, dyr = dy.pointer + r * n, dxr = dx.pointer + r * n
                let norm = norms[r]
                if norm > epsilon {
                    var dot: Float = 0
                    for i in 0..<n { dot += yr[i] * dyr[i] }
                    let inv = 1 / norm
                    for i in 0..<n { dxr[i] = (dyr[i] - yr[i] * dot) * inv }
                } else {
                    for i in 0..<n { dxr[i] = dyr[i] / epsilon }
                }
            }
        }
    }
}
