import PleatCore
import PleatTensor

/// SASRec: item + learned position embeddings → LN → dropout → post-LN Transformer blocks (causal).
/// The item table is tied: the same rows score next items in the loss.
///
/// Sized for one batch shape (`batch` × `maxLength`), whose activations it allocates once.
public final class SASRecEncoder: SequenceEncoder {
    public let config: TransformerConfig
    public let batch: Int
    public let store: ParameterStore
    let input: InputEmbedding
    let blocks: [PostNormBlock]
    public var items: Embedding { input.items }
    public let output: Tensor
    public let outputGradient: Tensor

    public init(config: TransformerConfig, batch: Int, seed: UInt64) {
        self.config = config
        self.batch = batch
        let rows = batch * config.maxLength, d = config.dimension, store = ParameterStore()
        self.store = store
        input = InputEmbedding(store, items: config.items, dimension: d, maxLength: config.maxLength, rows: rows,
                               layerNormEpsilon: config.layerNormEpsilon, scaleBySqrtDimension: false, dropout: config.dropout)
        blocks = (0..<config.blocks).map { PostNormBlock(store, "blocks.\($0)", config: config, batch: batch) }
        (output, outputGradient) = (Tensor([rows, d]), Tensor([rows, d]))
        var rng = RandomSource(seed: seed)
        for p in store.parameters where p.shape.count == 2 { Initializer.normal(p.value, std: 0.02, rng: &rng) }
    }

    public func forward(_ ids: [Int32], rng: inout RandomSource?) {
        precondition(ids.count == output.rows, "expected \(output.rows) ids")
        input.forward(ids, into: output, rng: &rng)
        for block in blocks { block.forward(output, rng: &rng) }
    }

    public func backward() {
        let dx = outputGradient
        for block in blocks.reversed() { block.backward(dx) }
        input.backward(dx)
    }
}
