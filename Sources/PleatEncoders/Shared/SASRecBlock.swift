import PleatCore
import PleatTensor

/// The block of the original SASRec (Kang & McAuley 2018; RecTools' `SASRecTransformerLayer`, the layer
/// behind the published Toys figure):
///   q̂ = LN₁ x;   h = q̂ + Out(Attn(Q q̂, K x, V x));   f = LN₂ h;   x₂ = f + Drop(W₂ Drop(ReLU(W₁ f)))
/// Queries read the normalised stream, keys and values the raw one, and both residuals start from a
/// normalised value, so the stream stays near unit scale with no LayerNorm after a sub-layer; the stack
/// ends with one (`makeFinalNorm`). Dropout acts on the attention weights and in the FFN only. The
/// original FFN is d wide (`ffn_multiplier = 1`). With `paddingLogCounts` each query also attends to
/// the window's padding (`TransformerConfig.attendPadding`).
final class SASRecBlock: TransformerBlock {
    let ln1: LayerNorm, query: Linear, keyValue: Linear, out: Linear, ln2: LayerNorm, ffn: FeedForward
    let attention: SoftmaxAttention
    let cache: SoftmaxAttention.Cache
    // Forward activations.
    let input: Tensor, xhat1: Tensor, rstd1: Tensor, normed1: Tensor, queries: Tensor, keysValues: Tensor, attended: Tensor
    let projected: Tensor, h: Tensor, xhat2: Tensor, rstd2: Tensor, normed2: Tensor
    let downOut: Tensor
    // Gradient scratch.
    let dQueries: Tensor, dKeysValues: Tensor, dNarrow: Tensor, dNarrow2: Tensor
    /// The last positions' attention outputs (`forwardLast`), one row per sequence.
    let lastAttended: Tensor
    let batch: Int
    /// ln(padding rows) of each sequence's window, or nil: no attention to padding.
    let paddingLogCounts: Tensor?
    private var positionRows: [Tensor] = []

    init(_ store: ParameterStore, _ name: String, config c: TransformerConfig, batch: Int, causal: Bool = true,
         paddingLogCounts: Tensor? = nil) {
        self.paddingLogCounts = paddingLogCounts
        let d = c.dimension, rows = batch * c.maxLength, wide = c.ffnMultiplier * d
        ln1 = LayerNorm(store, "\(name).ln1", features: d, epsilon: c.layerNormEpsilon)
        query = Linear(store, "\(name).q", inputs: d, outputs: d)
        keyValue = Linear(store, "\(name).kv", inputs: d, outputs: 2 * d)
        out = Linear(store, "\(name).out", inputs: d, outputs: d)
        ln2 = LayerNorm(store, "\(name).ln2", features: d, epsilon: c.layerNormEpsilon)
        ffn = FeedForward(store, name, activation: .relu, dimension: d, wide: wide, rows: rows, dropout: c.dropout)
        attention = SoftmaxAttention(heads: c.heads, headDim: d / c.heads, causal: causal, dropout: c.dropout)
        cache = .init(batch: batch, length: c.maxLength, heads: c.heads, dropout: c.dropout, headDim: d / c.heads)
        func narrow() -> Tensor { Tensor([rows, d]) }
        (input, xhat1, normed1, queries, attended, projected, h) = (narrow(), narrow(), narrow(), narrow(), narrow(), narrow(), narrow())
        (xhat2, normed2, downOut, dQueries, dNarrow, dNarrow2) = (narrow(), narrow(), narrow(), narrow(), narrow(), narrow())
        (keysValues, dKeysValues) = (Tensor([rows, 2 * d]), Tensor([rows, 2 * d]))
        (rstd1, rstd2) = (Tensor([rows]), Tensor([rows]))
        lastAttended = Tensor([batch, d])
        self.batch = batch
        positionRows = [input, xhat1, rstd1, normed1, queries, keysValues, attended, projected, h, xhat2, rstd2, normed2,
                        downOut, dQueries, dKeysValues, dNarrow, dNarrow2] + ffn.positionRows
    }

    func setLength(_ n: Int) {
        for t in positionRows { t.setRows(batch * n) }
        cache.setLength(n)
    }

    /// q̂ = LN₁ x and its queries; keys and values from x.
    private func project(_ x: Tensor) {
        ln1.forward(x, into: normed1, normalized: xhat1, rstd: rstd1)
        query.forward(normed1, into: queries)
        keyValue.forward(x, into: keysValues)
    }

    /// A padding row is zeros, so its key and value are the biases of the K and V product.
    private var sink: SoftmaxAttention.Sink? {
        guard let paddingLogCounts, let bias = keyValue.bias else { return nil }
        let d = out.inputs
        return .init(key: bias.value.pointer, value: bias.value.pointer + d, logCounts: paddingLogCounts.pointer,
                     keyGradient: bias.grad.pointer, valueGradient: bias.grad.pointer + d)
    }

    func forward(_ x: Tensor, keyValid: UnsafePointer<Float>?, prefixes: UnsafePointer<Int32>?, rng: inout RandomSource?) {
        input.copy(from: x)
        project(x)
        let kv = StridedRows(keysValues)
        attention.forward(q: StridedRows(queries), k: kv, v: kv.offset(columns: out.inputs), keyValid: keyValid,
                          prefixes: prefixes, sink: sink, out: StridedRows(attended), cache: cache, rng: &rng)
        afterAttention(x, rng: &rng)
    }

    /// Everything after the attention, row by row: reads `normed1` and `attended`, writes x.
    private func afterAttention(_ x: Tensor, rng: inout RandomSource?) {
        out.forward(attended, into: projected)
        Tensor.add(normed1, projected, into: h)
        ln2.forward(h, into: normed2, normalized: xhat2, rstd: rstd2)
        ffn.forward(normed2, into: downOut, rng: &rng)
        Tensor.add(normed2, downOut, into: x)
    }

    func forwardLast(_ x: Tensor, lengths: UnsafeBufferPointer<Int32>, into y: Tensor) {
        project(x)
        let kv = StridedRows(keysValues)
        attention.forwardLast(q: StridedRows(queries), k: kv, v: kv.offset(columns: out.inputs), batch: batch, length: x.rows / batch,
                              lengths: lengths, sink: sink, out: StridedRows(lastAttended))
        gatherLastRows(normed1, batch: batch, lengths: lengths, into: y)
        setLength(1)
        normed1.copy(from: y)
        attended.copy(from: lastAttended)
        var noDropout: RandomSource? = nil
        afterAttention(y, rng: &noDropout)
    }

    /// dx holds ∂L/∂x₂ on entry and ∂L/∂x on return.
    func backward(_ dx: Tensor) {
        // FFN: ∂L/∂f = dx + its branch's gradient; then through LN₂ to ∂L/∂h.
        ffn.backward(normed2, dx, dx: dNarrow)
        Tensor.add(dx, dNarrow, into: dNarrow)
        ln2.backward(dNarrow, normalized: xhat2, rstd: rstd2, dx: dNarrow2)
        // Attention: ∂L/∂h reaches q̂ directly and through the queries; x through the keys and values.
        out.backward(attended, dNarrow2, dx: projected)  // the forward value is no longer needed
        let kv = StridedRows(keysValues), dkv = StridedRows(dKeysValues), d = out.inputs
        attention.backward(q: StridedRows(queries), k: kv, v: kv.offset(columns: d), dOut: StridedRows(projected), cache: cache,
                           dq: StridedRows(dQueries), dk: dkv, dv: dkv.offset(columns: d), sink: sink)
        keyValue.backward(input, dKeysValues, dx: dx)
        query.backward(normed1, dQueries, dx: dNarrow)
        Tensor.add(dNarrow, dNarrow2, into: dNarrow)
        ln1.backward(dNarrow, normalized: xhat1, rstd: rstd1, dx: projected)
        Tensor.add(dx, projected, into: dx)
    }
}
