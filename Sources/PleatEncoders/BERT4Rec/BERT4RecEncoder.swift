import PleatCore
import PleatTensor

/// BERT4Rec (model-spec §3): LN(E[id] + P) → dropout → bidirectional post-LN blocks → the output
/// transform LN(GELU(h W_t + b_t)). `output` is the transformed state; a position's logits are
/// output · Eᵀ + `outputBias`, over the tied item table.
///
/// Token ids: 0 padding, 1…items the items, items + 1 = [MASK] (`maskToken`). Sequences are left-aligned
/// and right-padded; padding keys are hidden from attention. Departure from the spec: no token-type
/// embedding (always type 0 there, so it only adds a learned constant that the LN's β can absorb).
///
/// With `contextTokens` > 0 a sequence may start with context vectors (fold tokens; `ContextEncoder`):
/// a bidirectional prefix that every position sees and that sees every position.
public final class BERT4RecEncoder: ContextEncoder {
    public let config: TransformerConfig
    public let batch: Int
    public let store: ParameterStore
    let input: InputEmbedding
    let blocks: [any TransformerBlock]
    /// Pre-LN stacks only (`TransformerConfig.Block`): LN after the last block, before the head.
    let finalNorm: LayerNorm?
    let stackOutput: Tensor, finalNormalized: Tensor, finalRstd: Tensor, dStackOutput: Tensor
    let transform: Linear, transformNorm: LayerNorm
    public let outputBias: Parameter
    public var items: Embedding { input.items }
    public var fields: InputFields {
        get { input.fields }
        set { input.fields = newValue }
    }
    public var maskToken: Int32 { Int32(config.items + 1) }
    public var length: Int { input.length }
    public let output: Tensor
    public let outputGradient: Tensor
    let hidden: Tensor, preActivation: Tensor, activated: Tensor, xhat: Tensor, rstd: Tensor, keyValid: Tensor, dHidden: Tensor
    let prefix: ContextPrefix
    public var context: Tensor { prefix.values }
    public var contextGradient: Tensor { prefix.gradient }
    public var contextTokens: Int { prefix.tokens }
    public var maxLength: Int { config.maxLength }

    /// `store`, `namePrefix` and `sharedItems` let a second encoder (a fold encoder) live in the same
    /// model and read the same item table. `behaviourTypes` > 0 adds a behaviour embedding to the input
    /// (`fields`), `valueBuckets` > 0 a value embedding (`fields`).
    public init(config: TransformerConfig, batch: Int, seed: UInt64, contextTokens: Int = 0, behaviourTypes: Int = 0, valueBuckets: Int = 0,
                store: ParameterStore = ParameterStore(), namePrefix: String = "", sharedItems: Embedding? = nil) {
        self.config = config
        self.batch = batch
        let rows = batch * config.maxLength, d = config.dimension
        self.store = store
        let before = store.parameters.count
        input = InputEmbedding(store, items: config.items + 1, dimension: d, maxLength: config.maxLength, rows: rows,
                               layerNormEpsilon: config.layerNormEpsilon, scaleBySqrtDimension: false, dropout: config.dropout,
                               countsFromNewest: config.positions == .fromNewest, behaviourTypes: behaviourTypes,
                               valueBuckets: valueBuckets, sharedItems: sharedItems, namePrefix: namePrefix)
        blocks = config.makeBlocks(store, namePrefix: namePrefix, batch: batch, causal: false)
        finalNorm = config.makeFinalNorm(store, namePrefix: namePrefix)
        transform = Linear(store, namePrefix + "head.transform", inputs: d, outputs: d)
        transformNorm = LayerNorm(store, namePrefix + "head.ln", features: d, epsilon: config.layerNormEpsilon)
        outputBias = store.make(namePrefix + "head.bias", shape: [config.items + 2], decays: false)
        prefix = ContextPrefix(tokens: contextTokens, batch: batch, dimension: d)
        func narrow() -> Tensor { Tensor([rows, d]) }
        (output, outputGradient, hidden, preActivation, activated, xhat, dHidden) = (narrow(), narrow(), narrow(), narrow(), narrow(), narrow(), narrow())
        (rstd, keyValid) = (Tensor([rows]), Tensor([rows]))
        (stackOutput, dStackOutput) = finalNorm == nil ? (hidden, dHidden) : (narrow(), narrow())
        (finalNormalized, finalRstd) = finalNorm == nil ? (Tensor([0, d]), Tensor([0])) : (narrow(), Tensor([rows]))
        config.initialize(store.parameters[before...], seed: seed)
    }

    public func setLength(_ n: Int) {
        precondition(n >= 1 && n <= config.maxLength, "length \(n) outside 1...\(config.maxLength)")
        input.setLength(n, rows: batch * n)
        for block in blocks { block.setLength(n) }
        for t in [output, outputGradient, hidden, preActivation, activated, xhat, rstd, keyValid, dHidden, stackOutput, dStackOutput] {
            t.setRows(batch * n)
        }
        if finalNorm != nil { finalNormalized.setRows(batch * n); finalRstd.setRows(batch * n) }
    }

    public func forward(_ ids: [Int32], rng: inout RandomSource?) {
        forward(ids, lengths: [], contextCounts: nil, timestamps: nil, rng: &rng)
    }

    /// Lengths and timestamps are not needed: padding is id 0 (hidden from attention) and BERT4Rec has no
    /// time bias. A sequence's first `contextCounts[b]` positions (ids 0) read `context` and are keys.
    public func forward(_ ids: [Int32], lengths: [Int32], contextCounts: [Int32]?, timestamps: [Int64]?, rng: inout RandomSource?) {
        precondition(ids.count == output.rows, "expected \(output.rows) ids")
        prefix.use(contextCounts)
        for i in ids.indices { keyValid[i] = ids[i] == 0 ? 0 : 1 }
        for b in 0..<batch { for i in 0..<Int(prefix.counts[b]) { keyValid[b * length + i] = 1 } }
        input.forward(ids, into: hidden, rng: &rng)
        prefix.add(into: hidden, length: length)
        for block in blocks { block.forward(hidden, keyValid: keyValid.pointer, prefixes: nil, rng: &rng) }
        finalNorm?.forward(hidden, into: stackOutput, normalized: finalNormalized, rstd: finalRstd)
        transform.forward(stackOutput, into: preActivation)
        Activation.gelu.forward(preActivation, into: activated)
        transformNorm.forward(activated, into: output, normalized: xhat, rstd: rstd)
    }

    public func backward() {
        transformNorm.backward(outputGradient, normalized: xhat, rstd: rstd, dx: dHidden)
        Activation.gelu.backward(preActivation, dHidden, dx: activated)
        transform.backward(stackOutput, activated, dx: dStackOutput)
        finalNorm?.backward(dStackOutput, normalized: finalNormalized, rstd: finalRstd, dx: dHidden)
        for block in blocks.reversed() { block.backward(dHidden) }
        prefix.gatherGradient(from: dHidden, length: length)
        input.backward(dHidden)
    }
}
