import PleatCore
import PleatTensor

/// SASRec: item + learned position embeddings → LN → dropout → post-LN Transformer blocks (causal).
/// The item table is tied: the same rows score next items in the loss. Sequences are left-aligned, so
/// causal attention never reaches padding.
///
/// With `contextTokens` > 0 a sequence may start with context vectors (fold tokens; `ContextEncoder`).
/// Sized for one batch shape (`batch` × `maxLength`), whose activations it allocates once.
public final class SASRecEncoder: ContextEncoder {
    public let config: TransformerConfig
    public let batch: Int
    public let store: ParameterStore
    let input: InputEmbedding
    let blocks: [PostNormBlock]
    public var items: Embedding { input.items }
    public let output: Tensor
    public let outputGradient: Tensor
    let prefix: ContextPrefix
    public var context: Tensor { prefix.values }
    public var contextGradient: Tensor { prefix.gradient }
    public var contextTokens: Int { prefix.tokens }
    public var maxLength: Int { config.maxLength }

    /// `store`, `namePrefix` and `sharedItems` let a second encoder (a fold encoder) live in the same
    /// model and read the same item table.
    public init(config: TransformerConfig, batch: Int, seed: UInt64, contextTokens: Int = 0,
                store: ParameterStore = ParameterStore(), namePrefix: String = "", sharedItems: Embedding? = nil) {
        self.config = config
        self.batch = batch
        let rows = batch * config.maxLength, d = config.dimension
        self.store = store
        let before = store.parameters.count
        input = InputEmbedding(store, items: config.items, dimension: d, maxLength: config.maxLength, rows: rows,
                               layerNormEpsilon: config.layerNormEpsilon, scaleBySqrtDimension: false, dropout: config.dropout,
                               sharedItems: sharedItems, namePrefix: namePrefix)
        blocks = (0..<config.blocks).map { PostNormBlock(store, "\(namePrefix)blocks.\($0)", config: config, batch: batch) }
        (output, outputGradient) = (Tensor([rows, d]), Tensor([rows, d]))
        prefix = ContextPrefix(tokens: contextTokens, batch: batch, dimension: d)
        var rng = RandomSource(seed: seed)
        for p in store.parameters[before...] where p.shape.count == 2 { Initializer.normal(p.value, std: 0.02, rng: &rng) }
    }

    public func forward(_ ids: [Int32], rng: inout RandomSource?) {
        precondition(ids.count == output.rows, "expected \(output.rows) ids")
        prefix.use(nil)
        input.forward(ids, into: output, rng: &rng)
        for block in blocks { block.forward(output, rng: &rng) }
    }

    /// Lengths and timestamps are not needed: sequences are left-aligned and SASRec has no time bias.
    public func forward(_ ids: [Int32], lengths: [Int32], contextCounts: [Int32]?, timestamps: [Int64]?, rng: inout RandomSource?) {
        guard let contextCounts else { return forward(ids, rng: &rng) }
        precondition(ids.count == output.rows, "expected \(output.rows) ids")
        prefix.use(contextCounts)
        input.forward(ids, into: output, rng: &rng)
        prefix.add(into: output, length: config.maxLength)
        prefix.counts.withUnsafeBufferPointer { p in
            for block in blocks { block.forward(output, prefixes: p.baseAddress, rng: &rng) }
        }
    }

    public func backward() {
        let dx = outputGradient
        for block in blocks.reversed() { block.backward(dx) }
        prefix.gatherGradient(from: dx, length: config.maxLength)
        input.backward(dx)
    }
}
