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
            gain = store.make("\(name).weight", shape: [features], decays: false)
            gain!.value.fill(1)
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
                var mean: Float = 0
                for i in 0..<d { mean += xr[i] }
                mean /= Float(d)
                var variance: Float = 0
                for i in 0..<d { let c = xr[i] - mean; variance += c * c }
                let rs = 1 / (variance / Float(d) + epsilon).squareRoot()
                rstd[r] = rs
                for i in 0..<d {
                    let h = (xr[i] - mean) * rs
                    hr[i] = h
                    yr[i] = g.map { h * $0[i] + b![i] } ?? h
                }
            }
        }
    }

    /// dx = r·(g − mean(g) − x̂·mean(g ⊙ x̂)) with g = dy ⊙ γ (overwrites dx);  dγ += Σ dy ⊙ x̂;  dβ += Σ dy.
    public func backward(_ dy: Tensor, normalized xhat: Tensor, rstd: Tensor, dx: Tensor) {
        let d = features, rows = dy.count / d
        let gamma = gain?.value.pointer
        Parallel.forRows(rows) { range in
            for r in range {
                let dyr = dy.pointer + r * d, hr = xhat.pointer + r * d, dxr = dx.pointer + r * d
                var meanG: Float = 0, meanGH: Float = 0
                for i in 0..<d {
                    let g = gamma.map { dyr[i] * $0[i] } ?? dyr[i]
                    meanG += g
                    meanGH += g * hr[i]
                }
                meanG /= Float(d)
                meanGH /= Float(d)
                let rs = rstd[r]
                for i in 0..<d {
                    let g = gamma.map { dyr[i] * $0[i] } ?? dyr[i]
                    dxr[i] = rs * (g - meanG - hr[i] * meanGH)
                }
            }
        }
        if let gain, let shift {
            for r in 0..<rows {
                let dyr = dy.pointer + r * d, hr = xhat.pointer + r * d
                for i in 0..<d {
                    gain.grad.pointer[i] += dyr[i] * hr[i]
                    shift.grad.pointer[i] += dyr[i]
                }
            }
        }
    }
}
