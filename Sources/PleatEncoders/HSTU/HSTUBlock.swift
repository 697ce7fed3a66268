import PleatCore
import PleatTensor

/// One HSTU layer (model-spec §1.4, backward §5.4):
///   Z = SiLU(LN(X) W₁ + b₁);  U, V, Q, K = split(Z);  O = PointwiseAttention(Q, K, V)
///   G = U ⊙ LN(O);  Y = X + W₂ Drop(G) + b₂   (or X + Drop(W₂ G + b₂), per the config)
final class HSTUBlock {
    let inputNorm: LayerNorm, uvqk: Linear, attentionNorm: LayerNorm, output: Linear
    let attention: PointwiseAttention, cache: PointwiseAttention.Cache
    let dropout: Dropout
    let config: HSTUConfig
    // Forward activations.
    let input: Tensor, xhat: Tensor, rstdIn: Tensor, xNormed: Tensor, pre: Tensor, z: Tensor
    let attended: Tensor, oHat: Tensor, rstdOut: Tensor, oNormed: Tensor, gated: Tensor, dropMask: Tensor, projected: Tensor
    // Gradient scratch.
    let dZ: Tensor, dPre: Tensor, dNarrow: Tensor, dNarrow2: Tensor
    /// One row per sequence: the last position's activations (`forwardLast`).
    let lastAttended: Tensor, lastOHat: Tensor, lastRstd: Tensor, lastONormed: Tensor, lastGated: Tensor, lastProjected: Tensor
    let batch: Int
    /// Every activation with one row per position, resized together by `setLength`.
    private var positionRows: [Tensor] = []

    /// `sharingBucketsWith`: the block below, which computes the time buckets all blocks of the stack use.
    init(_ store: ParameterStore, _ name: String, config c: HSTUConfig, batch: Int, sharingBucketsWith below: HSTUBlock? = nil) {
        let d = c.dimension, rows = batch * c.maxLength
        config = c
        inputNorm = LayerNorm(store, "\(name).ln_in", features: d, epsilon: c.layerNormEpsilon, affine: c.layerNormAffine)
        uvqk = Linear(store, "\(name).uvqk", inputs: d, outputs: 4 * d, bias: c.projectionBias)
        attentionNorm = LayerNorm(store, "\(name).ln_attn", features: d, epsilon: c.layerNormEpsilon, affine: c.layerNormAffine)
        output = Linear(store, "\(name).out", inputs: d, outputs: d)
        attention = PointwiseAttention(store, "\(name).attn", heads: c.heads, qkDim: d / c.heads, vDim: d / c.heads,
                                       maxLength: c.maxLength, options: c.attention)
        cache = .init(batch: batch, length: c.maxLength, heads: c.heads, dropout: c.attention.dropout, sharingBucketsWith: below?.cache)
        dropout = Dropout(c.dropout)
        func narrow() -> Tensor { Tensor([rows, d]) }
        (input, xhat, xNormed, attended, oHat, oNormed) = (narrow(), narrow(), narrow(), narrow(), narrow(), narrow())
        (gated, dropMask, projected, dNarrow, dNarrow2) = (narrow(), narrow(), narrow(), narrow(), narrow())
        (pre, z, dZ, dPre) = (Tensor([rows, 4 * d]), Tensor([rows, 4 * d]), Tensor([rows, 4 * d]), Tensor([rows, 4 * d]))
        (rstdIn, rstdOut) = (Tensor([rows]), Tensor([rows]))
        (lastAttended, lastOHat, lastONormed) = (Tensor([batch, d]), Tensor([batch, d]), Tensor([batch, d]))
        (lastGated, lastProjected, lastRstd) = (Tensor([batch, d]), Tensor([batch, d]), Tensor([batch]))
        self.batch = batch
        positionRows = [input, xhat, rstdIn, xNormed, pre, z, attended, oHat, rstdOut, oNormed, gated, dropMask, projected,
                        dZ, dPre, dNarrow, dNarrow2]
    }

    /// Positions per sequence in the next passes (at most the config's maximum length).
    func setLength(_ n: Int) {
        for t in positionRows { t.setRows(batch * n) }
        cache.setLength(n)
    }

    /// Column blocks of Z (and of dZ), in the reference's order U, V, Q, K.
    private func blocks(_ t: Tensor) -> (u: StridedRows, v: StridedRows, q: StridedRows, k: StridedRows) {
        let all = StridedRows(t), d = config.dimension
        return (all, all.offset(columns: d), all.offset(columns: 2 * d), all.offset(columns: 3 * d))
    }

    func forward(_ x: Tensor, lengths: UnsafeBufferPointer<Int32>, prefixes: UnsafeBufferPointer<Int32>? = nil,
                 timestamps: UnsafePointer<Int64>?, rng: inout RandomSource?) {
        let d = config.dimension, rows = x.rows
        input.copy(from: x)
        inputNorm.forward(x, into: xNormed, normalized: xhat, rstd: rstdIn)
        uvqk.forward(xNormed, into: pre)
        Activation.silu.forward(pre, into: z)
        let (u, v, q, k) = blocks(z)
        attention.forward(q: q, k: k, v: v, lengths: lengths, prefixes: prefixes, timestamps: timestamps, out: StridedRows(attended), cache: cache, rng: &rng)
        attentionNorm.forward(attended, into: oNormed, normalized: oHat, rstd: rstdOut)
        Parallel.forRows(rows) { range in
            for r in range { for i in 0..<d { self.gated[r * d + i] = u.base[r * u.stride + i] * self.oNormed[r * d + i] } }
        }
        switch config.outputDropout {
        case .beforeProjection:
            dropout.forward(gated, into: dNarrow, mask: dropMask, rng: &rng)   // dNarrow holds Drop(G) until backward
            output.forward(dNarrow, into: projected)
        case .afterProjection:
            output.forward(gated, into: projected)
            dropout.forward(projected, into: projected, mask: dropMask, rng: &rng)
        }
        Tensor.add(input, projected, into: x)
    }

    /// `forward` (evaluation) for each sequence's last real position only, into row b of `y`
    /// (batch × d): keys and values still come from every position, but the attention, its norm, the gate
    /// and the output projection run for one row per sequence. What scoring needs of the last layer.
    func forwardLast(_ x: Tensor, lengths: UnsafeBufferPointer<Int32>, timestamps: UnsafePointer<Int64>?, into y: Tensor) {
        let d = config.dimension, n = x.rows / batch
        inputNorm.forward(x, into: xNormed, normalized: xhat, rstd: rstdIn)
        uvqk.forward(xNormed, into: pre)
        Activation.silu.forward(pre, into: z)
        let (u, v, q, k) = blocks(z)
        attention.forwardLast(q: q, k: k, v: v, batch: batch, length: n, lengths: lengths, timestamps: timestamps,
                              out: StridedRows(lastAttended))
        attentionNorm.forward(lastAttended, into: lastONormed, normalized: lastOHat, rstd: lastRstd)
        for b in 0..<batch {
            let r = b * n + max(Int(lengths[b]) - 1, 0)
            for i in 0..<d { lastGated[b * d + i] = u.base[r * u.stride + i] * lastONormed[b * d + i] }
        }
        output.forward(lastGated, into: lastProjected)
        for b in 0..<batch {
            let r = b * n + max(Int(lengths[b]) - 1, 0)
            for i in 0..<d { y[b * d + i] = x[r * d + i] + lastProjected[b * d + i] }
        }
    }

    /// dx holds ∂L/∂Y on entry and ∂L/∂X on return.
    func backward(_ dx: Tensor) {
        let d = config.dimension, rows = dx.rows
        // dG from the output projection (and its dropout).
        switch config.outputDropout {
        case .beforeProjection:
            output.backward(dNarrow, dx, dx: dNarrow2)
            dropout.backward(dNarrow2, mask: dropMask, dx: dNarrow2)
        case .afterProjection:
            dropout.backward(dx, mask: dropMask, dx: dNarrow)
            output.backward(gated, dNarrow, dx: dNarrow2)
        }
        // dU = dG ⊙ LN(O) into dZ's U block;  dLN(O) = dG ⊙ U.
        let (u, _, _, _) = blocks(z)
        let (du, dv, dq, dk) = blocks(dZ)
        Parallel.forRows(rows) { range in
            for r in range {
                for i in 0..<d {
                    let g = self.dNarrow2[r * d + i]
                    du.base[r * du.stride + i] = g * self.oNormed[r * d + i]
                    self.dNarrow[r * d + i] = g * u.base[r * u.stride + i]
                }
            }
        }
        attentionNorm.backward(dNarrow, normalized: oHat, rstd: rstdOut, dx: dNarrow2)
        let (_, v, q, k) = blocks(z)
        attention.backward(q: q, k: k, v: v, dOut: StridedRows(dNarrow2), cache: cache, dq: dq, dk: dk, dv: dv)
        Activation.silu.backward(pre, dZ, dx: dPre)
        uvqk.backward(xNormed, dPre, dx: dNarrow)
        inputNorm.backward(dNarrow, normalized: xhat, rstd: rstdIn, dx: dNarrow2)
        Tensor.add(dx, dNarrow2, into: dx)
    }
}
