import PleatCore
import PleatTensor

/// One post-LN Transformer block (RecBole's SASRec; BERT4Rec when bidirectional):
///   x₁ = LN₁(x + Drop(Out(Attn(QKV x))))
///   x₂ = LN₂(x₁ + Drop(W₂ Drop(GELU(W₁ x₁))))
/// Activations for one batch shape are allocated once and reused by every step.
final class PostNormBlock: SoftmaxBlock {
    let qkv: Linear, out: Linear, ln1: LayerNorm, up: Linear, down: Linear, ln2: LayerNorm
    let attention: SoftmaxAttention
    let dropout: Dropout
    let cache: SoftmaxAttention.Cache
    // Forward activations.
    let input: Tensor, qkvOut: Tensor, attended: Tensor, projected: Tensor, mask1: Tensor
    let xhat1: Tensor, rstd1: Tensor, x1: Tensor
    let hidden: Tensor, activated: Tensor, mask2: Tensor, dropped: Tensor, down2: Tensor, mask3: Tensor
    let xhat2: Tensor, rstd2: Tensor
    // Gradient scratch.
    let dSum: Tensor, dWide: Tensor, dWide2: Tensor, dNarrow: Tensor, dQKV: Tensor
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
        up = Linear(store, "\(name).ff1", inputs: d, outputs: wide)
        down = Linear(store, "\(name).ff2", inputs: wide, outputs: d)
        ln2 = LayerNorm(store, "\(name).ln2", features: d, epsilon: c.layerNormEpsilon)
        attention = SoftmaxAttention(heads: c.heads, headDim: d / c.heads, causal: causal, dropout: c.dropout)
        dropout = Dropout(c.dropout)
        cache = .init(batch: batch, length: c.maxLength, heads: c.heads, dropout: c.dropout)
        func narrow() -> Tensor { Tensor([rows, d]) }
        func wideT() -> Tensor { Tensor([rows, wide]) }
        (input, attended, projected, mask1, xhat1, x1) = (narrow(), narrow(), narrow(), narrow(), narrow(), narrow())
        (down2, mask3, xhat2, dSum, dNarrow) = (narrow(), narrow(), narrow(), narrow(), narrow())
        (hidden, activated, mask2, dropped, dWide, dWide2) = (wideT(), wideT(), wideT(), wideT(), wideT(), wideT())
        (qkvOut, dQKV) = (Tensor([rows, 3 * d]), Tensor([rows, 3 * d]))
        (rstd1, rstd2) = (Tensor([rows]), Tensor([rows]))
        lastAttended = Tensor([batch, d])
        self.batch = batch
        positionRows = [input, qkvOut, attended, projected, mask1, xhat1, rstd1, x1, hidden, activated, mask2, dropped, down2, mask3,
                        xhat2, rstd2, dSum, dWide, dWide2, dNarrow, dQKV]
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
        up.forward(x1, into: hidden)
        Activation.gelu.forward(hidden, into: activated)
        dropout.forward(activated, into: dropped, mask: mask2, rng: &rng)
        down.forward(dropped, into: down2)
        dropout.forward(down2, into: down2, mask: mask3, rng: &rng)
        Tensor.add(x1, down2, into: dSum)
        ln2.forward(dSum, into: x, normalized: xhat2, rstd: rstd2)
    }

    func backward(_ dx: Tensor) {
        // Second sub-layer: dSum = LN₂ᵀ dx; it reaches x₁ directly and through the FFN.
        ln2.backward(dx, normalized: xhat2, rstd: rstd2, dx: dSum)
        dropout.backward(dSum, mask: mask3, dx: dNarrow)
        down.backward(dropped, dNarrow, dx: dWide)
        dropout.backward(dWide, mask: mask2, dx: dWide2)
        Activation.gelu.backward(hidden, dWide2, dx: dWide)
        up.backward(x1, dWide, dx: dNarrow)
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
