import PleatCore
import PleatTensor

/// SASRec: item + learned position embeddings → LN → dropout → post-LN Transformer blocks (causal).
/// The item table is tied: the same rows score next items in the loss.
///
/// Sized for one batch shape (`batch` × `maxLength`), whose activations it allocates once.
public final class SASRecEncoder {
    public let config: SASRecConfig
    public let batch: Int
    public let store: ParameterStore
    public let items: Embedding
    let positions: Embedding
    let embeddingNorm: LayerNorm
    let dropout: Dropout
    let blocks: [PostNormBlock]
    /// The encoder's output, rows = batch × maxLength.
    public let output: Tensor
    /// ∂loss/∂output, filled by the caller before `backward`.
    public let outputGradient: Tensor
    let summed: Tensor, xhat: Tensor, rstd: Tensor, mask: Tensor, scratch: Tensor
    var ids: [Int32] = []
    let positionIds: [Int32]

    public init(config: SASRecConfig, batch: Int, seed: UInt64) {
        self.config = config
        self.batch = batch
        let rows = batch * config.maxLength, d = config.dimension, store = ParameterStore()
        self.store = store
        items = Embedding(store, "item_emb", rows: config.items + 1, dimension: d, paddingId: 0)
        positions = Embedding(store, "pos_emb", rows: config.maxLength, dimension: d)
        embeddingNorm = LayerNorm(store, "emb_ln", features: d, epsilon: config.layerNormEpsilon)
        dropout = Dropout(config.dropout)
        blocks = (0..<config.blocks).map { PostNormBlock(store, "blocks.\($0)", config: config, batch: batch) }
        (output, outputGradient, summed, xhat, mask, scratch) = (Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]))
        rstd = Tensor([rows])
        positionIds = (0..<rows).map { Int32($0 % config.maxLength) }
        var rng = RandomSource(seed: seed)
        for p in store.parameters where p.shape.count == 2 { Initializer.normal(p.value, std: 0.02, rng: &rng) }
    }

    /// Encodes `ids` (batch × maxLength, 0 = padding) into `output`. `rng` nil: evaluation.
    public func forward(_ ids: [Int32], rng: inout RandomSource?) {
        precondition(ids.count == output.rows, "expected \(output.rows) ids")
        self.ids = ids
        ids.withUnsafeBufferPointer { items.forward($0, into: summed) }
        positionIds.withUnsafeBufferPointer { positions.forward($0, into: scratch) }
        for i in 0..<summed.count { summed[i] += scratch[i] }
        embeddingNorm.forward(summed, into: output, normalized: xhat, rstd: rstd)
        dropout.forward(output, into: output, mask: mask, rng: &rng)
        for block in blocks { block.forward(output, rng: &rng) }
    }

    /// Back-propagates `outputGradient` into every parameter's gradient.
    public func backward() {
        let dx = outputGradient
        for block in blocks.reversed() { block.backward(dx) }
        dropout.backward(dx, mask: mask, dx: dx)
        embeddingNorm.backward(dx, normalized: xhat, rstd: rstd, dx: scratch)
        ids.withUnsafeBufferPointer { items.backward($0, scratch) }
        positionIds.withUnsafeBufferPointer { positions.backward($0, scratch) }
    }
}
