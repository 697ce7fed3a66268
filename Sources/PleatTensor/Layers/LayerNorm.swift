/// LayerNorm over the last dimension: x̂ = (x − μ)·r with r = 1/√(var + ε), y = γ ⊙ x̂ + β.
/// Without affine parameters (HSTU, GR-SASRec) γ ≡ 1 and β ≡ 0.
public struct LayerNorm {
    public let features: Int
    public let epsilon: Float
    public let gain: Parameter?
    public let shift: Parameter?

    public init(_ store: ParameterStore, _ name: String, features: Int, epsilon: Float, affine: Bool = true) {
        self.features = features
        self.epsilon = epsilon
        if affine {
            let ones = store.make("\(name).weight", shape: [features], decays: false)
            ones.value.fill(1)
            gain = ones
            shift = store.make("\(name).bias", shape: [features], decays: false)
        } else {
            gain = nil
            shift = nil
        }
    }

    /// Saves x̂ (rows × features) and r (rows) for the backward pass.
    public func forward(_ x: Tensor, into y: Tensor, normalized xhat: Tensor, rstd: Tensor) {
        let d = features, rows = x.count / d
        let g = gain?.value.pointer, b = shift?.value.pointer
        Parallel.forRows(rows) { range in
            for r in range {
                let xr = x.pointer + r * d, hr = xhat.pointer + r * d, yr = y.pointer + r * d
                let mean = VectorMath.sum(xr, count: d) / Float(d)
                let variance = VectorMath.squaredDeviations(xr, from: mean, count: d) / Float(d)
                let rs = 1 / (variance + epsilon).squareRoot()
                rstd[r] = rs
                VectorMath.normalize(xr, mean: mean, rstd: rs, into: hr, count: d)
                if let g, let b { VectorMath.multiplyAdd(hr, g, b, into: yr, count: d) } else if hr != yr { yr.update(from: hr, count: d) }
            }
        }
    }

    /// dx = r·(g − mean(g) − x̂·mean(g ⊙ x̂)) with g = dy ⊙ γ (overwrites dx);  dγ += Σ dy ⊙ x̂;  dβ += Σ dy.
    public func backward(_ dy: Tensor, normalized xhat: Tensor, rstd: Tensor, dx: Tensor) {
        let d = features, rows = dy.count / d
        let gamma = gain?.value.pointer
        Parallel.forRows(rows) { range in
            // g = dy ⊙ γ, one row at a time.
            let scaled = UnsafeMutablePointer<Float>.allocate(capacity: d)
            defer { scaled.deallocate() }
            for r in range {
                let dyr = dy.pointer + r * d, hr = xhat.pointer + r * d, dxr = dx.pointer + r * d
                let g: UnsafePointer<Float>
                if let gamma { VectorMath.multiply(dyr, gamma, into: scaled, count: d); g = UnsafePointer(scaled) } else { g = UnsafePointer(dyr) }
                let meanG = VectorMath.sum(g, count: d) / Float(d)
                let meanGH = VectorMath.dot(g, hr, count: d) / Float(d)
                VectorMath.layerNormGradient(g, hr, meanG: meanG, meanGH: meanGH, rstd: rstd[r], into: dxr, count: d)
            }
        }
        if let gain, let shift {
            for r in 0..<rows {
                let dyr = dy.pointer + r * d, hr = xhat.pointer + r * d
                VectorMath.multiplyAccumulate(dyr, hr, into: gain.grad.pointer, count: d)
                VectorMath.addScaled(dyr, by: 1, into: shift.grad.pointer, count: d)
            }
        }
    }
}
