import PleatCore
import PleatTensor

/// HSTU: input embedding → HSTU layers → L2 normalisation (research) or a final LayerNorm (benchmark).
/// Sequences are right-padded (real events first, id 0 after), as in the reference's jagged layout.
/// Sized for one batch shape, whose activations it allocates once.
///
/// With `contextTokens` > 0 a sequence may start with up to that many context vectors (fold tokens of
/// older history) instead of items (`ContextEncoder`; PointwiseAttention prefixes).
public final class HSTUEncoder: LastPositionEncoder {
    public let config: HSTUConfig
    public let batch: Int
    public let store: ParameterStore
    let input: InputEmbedding
    let blocks: [HSTUBlock]
    let finalNorm: LayerNorm?
    public var items: Embedding { input.items }
    public var fields: InputFields {
        get { input.fields }
        set { input.fields = newValue }
    }
    public let output: Tensor
    public let outputGradient: Tensor
    let prefix: ContextPrefix
    public var context: Tensor { prefix.values }
    public var contextGradient: Tensor { prefix.gradient }
    public var contextTokens: Int { prefix.tokens }
    public var maxLength: Int { config.maxLength }
    public var length: Int { input.length }
    let hidden: Tensor, xhat: Tensor, rstd: Tensor, norms: Tensor
    /// One row per sequence, for `encodeLastPositions`.
    let lastHidden: Tensor, lastXhat: Tensor, lastRstd: Tensor, lastNorms: Tensor
    var lengths: [Int32]

    /// `store`, `namePrefix` and `sharedItems` let a second encoder (a fold encoder) live in the same
    /// model and read the same item table. `behaviourTypes` > 0 adds a behaviour embedding to the input
    /// (`fields`), `valueBuckets` > 0 a value embedding (`fields`).
    public init(config: HSTUConfig, batch: Int, seed: UInt64, contextTokens: Int = 0, behaviourTypes: Int = 0, valueBuckets: Int = 0,
                store: ParameterStore = ParameterStore(), namePrefix: String = "", sharedItems: Embedding? = nil) {
        self.config = config
        self.batch = batch
        let rows = batch * config.maxLength, d = config.dimension
        self.store = store
        let before = store.parameters.count
        input = InputEmbedding(store, items: config.items, dimension: d, maxLength: config.maxLength, rows: rows,
                               layerNormEpsilon: config.inputLayerNorm ? config.layerNormEpsilon : nil,
                               scaleBySqrtDimension: !config.inputLayerNorm, dropout: config.dropout,
                               behaviourTypes: behaviourTypes, valueBuckets: valueBuckets, sharedItems: sharedItems, namePrefix: namePrefix)
        var stack: [HSTUBlock] = []
        for i in 0..<config.blocks {
            stack.append(HSTUBlock(store, "\(namePrefix)blocks.\(i)", config: config, batch: batch, sharingBucketsWith: stack.first))
        }
        blocks = stack
        finalNorm = config.outputNorm == .layerNorm ? LayerNorm(store, namePrefix + "ln_out", features: d, epsilon: config.layerNormEpsilon) : nil
        (output, outputGradient, hidden, xhat) = (Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]))
        prefix = ContextPrefix(tokens: contextTokens, batch: batch, dimension: d)
        (rstd, norms) = (Tensor([rows]), Tensor([rows]))
        (lastHidden, lastXhat, lastRstd, lastNorms) = (Tensor([batch, d]), Tensor([batch, d]), Tensor([batch]), Tensor([batch]))
        lengths = [Int32](repeating: 0, count: batch)
        var rng = RandomSource(seed: seed)
        for p in store.parameters[before...] where p.shape.count == 2 && !p.name.hasSuffix("pos_w") {
            Initializer.normal(p.value, std: 0.02, rng: &rng)
        }
    }

    public func setLength(_ n: Int) {
        precondition(n >= 1 && n <= config.maxLength, "length \(n) outside 1...\(config.maxLength)")
        input.setLength(n, rows: batch * n)
        for block in blocks { block.setLength(n) }
        for t in [output, outputGradient, hidden, xhat, rstd, norms] { t.setRows(batch * n) }
    }

    /// Encodes right-padded `ids` (batch × length) into `output`. `timestamps` (Unix seconds,
    /// length + 1 per sequence) feed the time bias when the config has one. `rng` nil: evaluation.
    public func forward(_ ids: [Int32], rng: inout RandomSource?) { forward(ids, timestamps: nil, rng: &rng) }

    public func forward(_ ids: [Int32], timestamps: [Int64]?, rng: inout RandomSource?) {
        let n = length
        for b in 0..<batch { lengths[b] = Int32(ids[(b * n)..<((b + 1) * n)].prefix { $0 != 0 }.count) }
        forward(ids, lengths: lengths, contextCounts: nil, timestamps: timestamps, rng: &rng)
    }

    /// The general form: `lengths[b]` positions are real (context tokens included); the first
    /// `contextCounts[b]` of them are context vectors from `context` (their ids are 0).
    public func forward(_ ids: [Int32], lengths: [Int32], contextCounts: [Int32]?, timestamps: [Int64]?, rng: inout RandomSource?) {
        self.lengths = lengths
        prefix.use(contextCounts)
        input.forward(ids, into: hidden, rng: &rng)
        prefix.add(into: hidden, length: length)
        lengths.withUnsafeBufferPointer { l in
            prefix.counts.withUnsafeBufferPointer { p in
                let withPrefixes = contextCounts == nil ? nil : p
                if let timestamps {
                    timestamps.withUnsafeBufferPointer { t in
                        for block in blocks { block.forward(hidden, lengths: l, prefixes: withPrefixes, timestamps: t.baseAddress, rng: &rng) }
                    }
                } else {
                    for block in blocks { block.forward(hidden, lengths: l, prefixes: withPrefixes, timestamps: nil, rng: &rng) }
                }
            }
        }
        if let finalNorm { finalNorm.forward(hidden, into: output, normalized: xhat, rstd: rstd) } else { L2Normalize.forward(hidden, into: output, norms: norms) }
    }

    public func encodeLastPositions(_ ids: [Int32], lengths: [Int32], timestamps: [Int64]?, into users: Tensor) {
        precondition(users.rows == batch && users.columns == config.dimension, "users must be \(batch) × \(config.dimension)")
        self.lengths = lengths
        prefix.use(nil)
        var noDropout: RandomSource? = nil
        input.forward(ids, into: hidden, rng: &noDropout)
        lengths.withUnsafeBufferPointer { l in
            func run(_ t: UnsafePointer<Int64>?) {
                for block in blocks.dropLast() { block.forward(hidden, lengths: l, prefixes: nil, timestamps: t, rng: &noDropout) }
                if let last = blocks.last { last.forwardLast(hidden, lengths: l, timestamps: t, into: lastHidden); return }
                // No layer: the embeddings' last rows.
                gatherLastRows(hidden, batch: batch, lengths: l, into: lastHidden)
            }
            if let timestamps { timestamps.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
        }
        if let finalNorm { finalNorm.forward(lastHidden, into: users, normalized: lastXhat, rstd: lastRstd) } else {
            L2Normalize.forward(lastHidden, into: users, norms: lastNorms)
        }
    }

    public func backward() {
        if let finalNorm { finalNorm.backward(outputGradient, normalized: xhat, rstd: rstd, dx: hidden) } else {
            L2Normalize.backward(output, norms: norms, outputGradient, dx: hidden)
        }
        for block in blocks.reversed() { block.backward(hidden) }
        prefix.gatherGradient(from: hidden, length: length)
        input.backward(hidden)
    }
}
