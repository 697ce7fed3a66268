import PleatCore
import PleatTensor

/// A pre-LN Transformer block, plain or gated (`TransformerConfig.Block`):
///   pre_ln:  x₁ = x + Drop(Attn(LN₁ x));                 x₂ = x₁ + Drop(FFN(LN₂ x₁))
///   ligr:    x₁ = x + σ(G₁ x) ⊙ Drop(Attn(LN₁ x));       x₂ = x₁ + σ(G₂ x₁) ⊙ Drop(SwiGLU(LN₂ x₁))
/// FFN is W₂ Drop(GELU(W₁ f)) with biases; SwiGLU is W₂ Drop(SiLU(A f) ⊙ (B f)) without (`FeedForward`).
/// LiGR is the layer of Govind et al. 2025 that eSASRec (Kolesnikov et al., RecSys 2025) puts into
/// SASRec; the residual stream is not normalised, so the encoder ends with a LN.
final class PreNormBlock: SoftmaxBlock {
    let gated: Bool
    let ln1: LayerNorm, qkv: Linear, out: Linear, ln2: LayerNorm
    let ffn: FeedForward
    let gate1: Linear?, gate2: Linear?
    let attention: SoftmaxAttention
    let dropout: Dropout
    let cache: SoftmaxAttention.Cache
    // Forward activations.
    let input: Tensor, xhat1: Tensor, rstd1: Tensor, normed1: Tensor, qkvOut: Tensor, attended: Tensor, projected: Tensor, mask1: Tensor
    let gate1Out: Tensor, x1: Tensor, xhat2: Tensor, rstd2: Tensor, normed2: Tensor
    let downOut: Tensor, gate2Out: Tensor
    // Gradient scratch.
    let dNarrow: Tensor, dNarrow2: Tensor, dGate: Tensor, dQKV: Tensor
    /// The last positions' attention outputs (`forwardLast`), one row per sequence.
    let lastAttended: Tensor
    let batch: Int
    private var positionRows: [Tensor] = []

    init(_ store: ParameterStore, _ name: String, config c: TransformerConfig, batch: Int, causal: Bool = true) {
        let d = c.dimension, rows = batch * c.maxLength, wide = c.ffnMultiplier * d
        gated = c.block == .ligr
        ln1 = LayerNorm(store, "\(name).ln1", features: d, epsilon: c.layerNormEpsilon)
        qkv = Linear(store, "\(name).qkv", inputs: d, outputs: 3 * d)
        out = Linear(store, "\(name).out", inputs: d, outputs: d)
        ln2 = LayerNorm(store, "\(name).ln2", features: d, epsilon: c.layerNormEpsilon)
        ffn = FeedForward(store, name, activation: gated ? .swiglu : .gelu, dimension: d, wide: wide, rows: rows, dropout: c.dropout)
        if gated {
            gate1 = Linear(store, "\(name).gate1", inputs: d, outputs: d)
            gate2 = Linear(store, "\(name).gate2", inputs: d, outputs: d)
        } else {
            (gate1, gate2) = (nil, nil)
        }
        attention = SoftmaxAttention(heads: c.heads, headDim: d / c.heads, causal: causal, dropout: c.dropout)
        dropout = Dropout(c.dropout)
        cache = .init(batch: batch, length: c.maxLength, heads: c.heads, dropout: c.dropout)
        func narrow() -> Tensor { Tensor([rows, d]) }
        (input, xhat1, normed1, attended, projected, mask1) = (narrow(), narrow(), narrow(), narrow(), narrow(), narrow())
        (gate1Out, x1, xhat2, normed2, downOut, gate2Out) = (narrow(), narrow(), narrow(), narrow(), narrow(), narrow())
        (dNarrow, dNarrow2, dGate) = (narrow(), narrow(), narrow())
        (qkvOut, dQKV) = (Tensor([rows, 3 * d]), Tensor([rows, 3 * d]))
        (rstd1, rstd2) = (Tensor([rows]), Tensor([rows]))
        lastAttended = Tensor([batch, d])
        self.batch = batch
        positionRows = [input, xhat1, rstd1, normed1, qkvOut, attended, projected, mask1, gate1Out, x1, xhat2, rstd2, normed2,
                        downOut, gate2Out, dNarrow, dNarrow2, dGate, dQKV] + ffn.positionRows
    }

    func setLength(_ n: Int) {
        for t in positionRows { t.setRows(batch * n) }
        cache.setLength(n)
    }

    func attentionInput(_ x: Tensor) -> Tensor {
        ln1.forward(x, into: normed1, normalized: xhat1, rstd: rstd1)
        return normed1
    }

    func afterAttention(_ x: Tensor, rng: inout RandomSource?) {
        out.forward(attended, into: projected)
        dropout.forward(projected, into: projected, mask: mask1, rng: &rng)
        residual(input, projected, gate: gate1, gateOut: gate1Out, into: x1)

        ln2.forward(x1, into: normed2, normalized: xhat2, rstd: rstd2)
        ffn.forward(normed2, into: downOut, rng: &rng)
        residual(x1, downOut, gate: gate2, gateOut: gate2Out, into: x)
    }

    /// y = x + branch, or x + σ(G x) ⊙ branch (σ(G x) kept in `gateOut`).
    private func residual(_ x: Tensor, _ branch: Tensor, gate: Linear?, gateOut: Tensor, into y: Tensor) {
        guard let gate else { return Tensor.add(x, branch, into: y) }
        gate.forward(x, into: gateOut)
        let (xp, bp, gp, yp) = (x.pointer, branch.pointer, gateOut.pointer, y.pointer)
        Parallel.forRows(x.count, minimumPerWorker: 16_384) { range in
            for i in range {
                let s = Activation.sigmoid(gp[i])
                gp[i] = s
                yp[i] = xp[i] + s * bp[i]
            }
        }
    }

    /// dx holds ∂L/∂x₂ on entry and ∂L/∂x on return.
    func backward(_ dx: Tensor) {
        // Second sub-layer. dx is ∂L/∂x₁ through the residual; dNarrow the branch's gradient.
        residualBackward(dx, input: x1, branch: downOut, gate: gate2, gateOut: gate2Out, dBranch: dNarrow)
        ffn.backward(normed2, dNarrow, dx: dNarrow)
        ln2.backward(dNarrow, normalized: xhat2, rstd: rstd2, dx: dNarrow2)
        Tensor.add(dx, dNarrow2, into: dx)
        // First sub-layer, the same way around the attention.
        residualBackward(dx, input: input, branch: projected, gate: gate1, gateOut: gate1Out, dBranch: dNarrow)
        dropout.backward(dNarrow, mask: mask1, dx: dNarrow)
        out.backward(attended, dNarrow, dx: projected)  // the forward value is no longer needed
        let all = StridedRows(qkvOut), grads = StridedRows(dQKV), d = out.inputs
        attention.backward(q: all, k: all.offset(columns: d), v: all.offset(columns: 2 * d), dOut: StridedRows(projected),
                           cache: cache, dq: grads, dk: grads.offset(columns: d), dv: grads.offset(columns: 2 * d))
        qkv.backward(normed1, dQKV, dx: dNarrow)
        ln1.backward(dNarrow, normalized: xhat1, rstd: rstd1, dx: dNarrow2)
        Tensor.add(dx, dNarrow2, into: dx)
    }

    /// For y = x + s ⊙ b with s = σ(G x): dBranch = dy ⊙ s, and dy (the residual's ∂L/∂x) gains
    /// Gᵀ(dy ⊙ b ⊙ s(1 − s)). Ungated: dBranch = dy. `branch` is the forward value of b.
    private func residualBackward(_ dy: Tensor, input x: Tensor, branch: Tensor, gate: Linear?, gateOut s: Tensor, dBranch: Tensor) {
        guard let gate else { return dBranch.copy(from: dy) }
        let (dyp, bp, sp, dbp, dgp) = (dy.pointer, branch.pointer, s.pointer, dBranch.pointer, dGate.pointer)
        Parallel.forRows(dy.count, minimumPerWorker: 16_384) { range in
            for i in range {
                dbp[i] = dyp[i] * sp[i]
                dgp[i] = dyp[i] * bp[i] * sp[i] * (1 - sp[i])
            }
        }
        gate.backward(x, dGate, dx: dNarrow2)
        Tensor.add(dy, dNarrow2, into: dy)
    }
}
