import PleatCore
import PleatTensor

/// The position-wise sub-layer every softmax block has: y = Drop(W₂ Drop(act(W₁ x))). GELU and ReLU
/// read W₁ x directly (d → wide, with biases); SwiGLU (LiGR) reads its two halves, SiLU(a) ⊙ b, from
/// one d → 2·wide product, without biases. The blocks own the residuals and norms around it.
final class FeedForward {
    enum Activation { case gelu, relu, swiglu }

    let activation: Activation
    /// W₁ (GELU, ReLU: `name.ff1`; SwiGLU: [A; B], `name.ff_in`) and W₂ (`name.ff2`).
    let up: Linear, down: Linear
    let dropout: Dropout
    // Forward activations.
    let upOut: Tensor, activated: Tensor, mask1: Tensor, dropped: Tensor, mask2: Tensor
    // Gradient scratch.
    let dOut: Tensor, dWide: Tensor, dUp: Tensor
    /// Every tensor with one row per position, for the block's `setLength`.
    let positionRows: [Tensor]

    /// Registers W₁ then W₂ in `store`, where the block's earlier layers put theirs (initial weights are
    /// drawn in registration order).
    init(_ store: ParameterStore, _ name: String, activation: Activation, dimension d: Int, wide: Int, rows: Int, dropout: Float) {
        self.activation = activation
        let gated = activation == .swiglu
        up = Linear(store, gated ? "\(name).ff_in" : "\(name).ff1", inputs: d, outputs: gated ? 2 * wide : wide, bias: !gated)
        down = Linear(store, "\(name).ff2", inputs: wide, outputs: d, bias: !gated)
        self.dropout = Dropout(dropout)
        (upOut, dUp) = (Tensor([rows, up.outputs]), Tensor([rows, up.outputs]))
        (activated, mask1, dropped, dWide) = (Tensor([rows, wide]), Tensor([rows, wide]), Tensor([rows, wide]), Tensor([rows, wide]))
        (mask2, dOut) = (Tensor([rows, d]), Tensor([rows, d]))
        positionRows = [upOut, dUp, activated, mask1, dropped, dWide, mask2, dOut]
    }

    /// y ← the sub-layer's output for x (y is not x).
    func forward(_ x: Tensor, into y: Tensor, rng: inout RandomSource?) {
        up.forward(x, into: upOut)
        switch activation {
        case .gelu: PleatTensor.Activation.gelu.forward(upOut, into: activated)
        case .relu: PleatTensor.Activation.relu.forward(upOut, into: activated)
        case .swiglu: Self.swiglu(upOut, into: activated)
        }
        dropout.forward(activated, into: dropped, mask: mask1, rng: &rng)
        down.forward(dropped, into: y)
        dropout.forward(y, into: y, mask: mask2, rng: &rng)
    }

    /// dx ← ∂L/∂x from dy = ∂L/∂y, for the x of the last forward pass; dx may be dy (read first).
    func backward(_ x: Tensor, _ dy: Tensor, dx: Tensor) {
        dropout.backward(dy, mask: mask2, dx: dOut)
        down.backward(dropped, dOut, dx: dWide)
        dropout.backward(dWide, mask: mask1, dx: dWide)
        switch activation {
        case .gelu: PleatTensor.Activation.gelu.backward(upOut, dWide, dx: dUp)
        case .relu: PleatTensor.Activation.relu.backward(upOut, dWide, dx: dUp)
        case .swiglu: Self.swigluBackward(upOut, dWide, dx: dUp)
        }
        up.backward(x, dUp, dx: dx)
    }

    /// [a | b] (rows × 2·wide) → SiLU(a) ⊙ b (rows × wide).
    static func swiglu(_ ab: Tensor, into y: Tensor) {
        let wide = y.columns, (abp, yp) = (ab.pointer, y.pointer)
        Parallel.forRows(y.rows, minimumPerWorker: 64) { rows in
            for r in rows {
                let a = abp + r * 2 * wide, b = a + wide, out = yp + r * wide
                for i in 0..<wide { out[i] = a[i] * PleatTensor.Activation.sigmoid(a[i]) * b[i] }
            }
        }
    }

    /// d[a | b] = [dy ⊙ b ⊙ SiLU′(a) | dy ⊙ SiLU(a)], SiLU′(a) = σ(a)(1 + a(1 − σ(a))).
    static func swigluBackward(_ ab: Tensor, _ dy: Tensor, dx: Tensor) {
        let wide = dy.columns, (abp, dyp, dxp) = (ab.pointer, dy.pointer, dx.pointer)
        Parallel.forRows(dy.rows, minimumPerWorker: 64) { rows in
            for r in rows {
                let a = abp + r * 2 * wide, b = a + wide, g = dyp + r * wide, da = dxp + r * 2 * wide, db = da + wide
                for i in 0..<wide {
                    let s = PleatTensor.Activation.sigmoid(a[i])
                    da[i] = g[i] * b[i] * s * (1 + a[i] * (1 - s))
                    db[i] = g[i] * a[i] * s
                }
            }
        }
    }
}
