import PleatCore
import PleatTensor

/// One post-LN Transformer block (RecBole's SASRec; BERT4Rec when bidirectional):
///   x₁ = LN₁(x + Drop(Out(Attn(QKV x))))
///   x₂ = LN₂(x₁ + Drop(W₂ Drop(GELU(W₁ x₁))))
/// Activations for one batch shape are allocated once and reused by every step.
final class PostNormBlock: SoftmaxBlock {
    let qkv: Linear, out: Linear, ln1: LayerNorm, ffn: FeedForward, ln2: LayerNorm
    let attention: SoftmaxAttention
    let dropout: Dropout
    let cache: SoftmaxAttention.Cache
    // Forward activations.
    let input: Tensor, qkvOut: Tensor, attended: Tensor, projected: Tensor, mask1: Tensor
    let xhat1: Tensor, rstd1: Tensor, x1: Tensor
    let down2: Tensor, xhat2: Tensor, rstd2: Tensor
    // Gradient scratch.
    let dSum: Tensor, dNarrow: Tensor, dQKV: Tensor
    /// The last positions' attention outputs (`forwardLast`), one row per sequence.
    let lastAttended: Tensor
    let batch: Int
    /// Every activation with one row per position, resized together by `setLength`.
    private var positionRows: [Tensor] = []

    init(_ store: ParameterStore, _ name: String, config c: TransformerConfig, batch: Int, causal: Bool = true) {
        let d = c.dimension, rows = batch * c.maxLength, wide = c.ffnMultiplier * d
        qkv = Linear(store, "\(name).qkv", inputs: d, outputs: 3 * d)
        out = Linear(store, "\(name).out", inputs: d, outputs: d)
        ln1 = LayerNorm(store, "\(name).ln1", features: d, epsilon: c.layerNormEpsilon)
        ffn = FeedForward(store, name, activation: .gelu, dimension: d, wide: wide, rows: rows, dropout: c.dropout)
        ln2 = LayerNorm(store, "\(name).ln2", features: d, epsilon: c.layerNormEpsilon)
        attention = SoftmaxAttention(heads: c.heads, headDim: d / c.heads, causal: causal, dropout: c.dropout)
        dropout = Dropout(c.dropout)
        cache = .init(batch: batch, length: c.maxLength, heads: c.heads, dropout: c.dropout)
        func narrow() -> Tensor { Tensor([rows, d]) }
        (input, attended, projected, mask1, xhat1, x1) = (narrow(), narrow(), narrow(), narrow(), narrow(), narrow())
        (down2, xhat2, dSum, dNarrow) = (narrow(), narrow(), narrow(), narrow())
        (qkvOut, dQKV) = (Tensor([rows, 3 * d]), Tensor([rows, 3 * d]))
        (rstd1, rstd2) = (Tensor([rows]), Tensor([rows]))
        lastAttended = Tensor([batch, d])
        self.batch = batch
        positionRows = [input, qkvOut, attended, projected, mask1, xhat1, rstd1, x1, down2, xhat2, rstd2, dSum, dNarrow, dQKV]
            + ffn.positionRows
    }

    func setLength(_ n: Int) {
        for t in positionRows { t.setRows(batch * n) }
        cache.setLength(n)
    }

    func attentionInput(_ x: Tensor) -> Tensor { x }

    func afterAttention(_ x: Tensor, rng: inout RandomSource?) {
        out.forward(attended, into: projected)
        dropout.forward(projected, into: projected, mask: mask1, rng: &rng)
        Tensor.add(input, projected, into: dSum)
        ln1.forward(dSum, into: x1, normalized: xhat1, rstd: rstd1)
        ffn.forward(x1, into: down2, rng: &rng)
        Tensor.add(x1, down2, into: dSum)
        ln2.forward(dSum, into: x, normalized: xhat2, rstd: rstd2)
    }

    func backward(_ dx: Tensor) {
        // Second sub-layer: dSum = LN₂ᵀ dx; it reaches x₁ directly and through the FFN.
        ln2.backward(dx, normalized: xhat2, rstd: rstd2, dx: dSum)
        ffn.backward(x1, dSum, dx: dNarrow)
        Tensor.add(dSum, dNarrow, into: dx)
        // First sub-layer, the same way around the attention.
        ln1.backward(dx, normalized: xhat1, rstd: rstd1, dx: dSum)
        dropout.backward(dSum, mask: mask1, dx: dNarrow)
        out.backward(attended, dNarrow, dx: projected)  // the forward value is no longer needed
        let all = StridedRows(qkvOut), grads = StridedRows(dQKV), d = out.inputs
        attention.backward(q: all, k: all.offset(columns: d), v: all.offset(columns: 2 * d), dOut: StridedRows(projected),
                           cache: cache, dq: grads, dk: grads.offset(columns: d), dv: grads.offset(columns: 2 * d))
        qkv.backward(input, dQKV, dx: dNarrow)
        Tensor.add(dSum, dNarrow, into: dx)
    }
}
