import PleatCore
import PleatTensor

/// BERT4Rec (model-spec §3): LN(E[id] + P) → dropout → bidirectional post-LN blocks → the output
/// transform LN(GELU(h W_t + b_t)). `output` is the transformed state; a position's logits are
/// output · Eᵀ + `outputBias`, over the tied item table.
///
/// Token ids: 0 padding, 1…items the items, items + 1 = [MASK] (`maskToken`). Sequences are left-aligned
/// and right-padded; padding keys are hidden from attention. Departure from the spec: no token-type
/// embedding (always type 0 there, so it only adds a learned constant that the LN's β can absorb).
public final class BERT4RecEncoder: SequenceEncoder {
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

    /// `behaviourTypes` > 0 adds a behaviour embedding to the input (`fields`), `valueBuckets` > 0 a
    /// value embedding (`fields`).
    public init(config: TransformerConfig, batch: Int, seed: UInt64, behaviourTypes: Int = 0, valueBuckets: Int = 0) {
        self.config = config
        self.batch = batch
        let rows = batch * config.maxLength, d = config.dimension, store = ParameterStore()
        self.store = store
        input = InputEmbedding(store, items: config.items + 1, dimension: d, maxLength: config.maxLength, rows: rows,
                               layerNormEpsilon: config.layerNormEpsilon, scaleBySqrtDimension: false, dropout: config.dropout,
                               countsFromNewest: config.positions == .fromNewest, behaviourTypes: behaviourTypes,
                               valueBuckets: valueBuckets)
        blocks = config.makeBlocks(store, namePrefix: "", batch: batch, causal: false)
        finalNorm = config.makeFinalNorm(store, namePrefix: "")
        transform = Linear(store, "head.transform", inputs: d, outputs: d)
        transformNorm = LayerNorm(store, "head.ln", features: d, epsilon: config.layerNormEpsilon)
        outputBias = store.make("head.bias", shape: [config.items + 2], decays: false)
        func narrow() -> Tensor { Tensor([rows, d]) }
        (output, outputGradient, hidden, preActivation, activated, xhat, dHidden) = (narrow(), narrow(), narrow(), narrow(), narrow(), narrow(), narrow())
        (rstd, keyValid) = (Tensor([rows]), Tensor([rows]))
        (stackOutput, dStackOutput) = finalNorm == nil ? (hidden, dHidden) : (narrow(), narrow())
        (finalNormalized, finalRstd) = finalNorm == nil ? (Tensor([0, d]), Tensor([0])) : (narrow(), Tensor([rows]))
        config.initialize(store.parameters[...], seed: seed)
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
        precondition(ids.count == output.rows, "expected \(output.rows) ids")
        for i in ids.indices { keyValid[i] = ids[i] == 0 ? 0 : 1 }
        input.forward(ids, into: hidden, rng: &rng)
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
        input.backward(dHidden)
    }
}
