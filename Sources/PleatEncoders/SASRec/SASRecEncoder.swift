import Foundation
import PleatCore
import PleatTensor

/// SASRec: item + learned position embeddings → LN → dropout → Transformer blocks (causal; post-LN, or
/// pre-LN / LiGR followed by a final LN: `TransformerConfig.Block`). The original block (`sasrec`)
/// normalises its own queries, so its stack, as the original, has no LN at the input.
/// The item table is tied: the same rows score next items in the loss. Sequences are left-aligned, so
/// causal attention never reaches padding (`attend_padding` gives the original's back as one key).
///
/// With `contextTokens` > 0 a sequence may start with context vectors (fold tokens; `ContextEncoder`).
/// Sized for one batch shape (`batch` × `maxLength`), whose activations it allocates once.
public final class SASRecEncoder: LastPositionEncoder {
    public let config: TransformerConfig
    public let batch: Int
    public let store: ParameterStore
    let input: InputEmbedding
    let blocks: [any TransformerBlock]
    let finalNorm: LayerNorm?
    /// The residual stream the blocks update and its gradient: `output` itself without a final norm.
    let stream: Tensor, streamGradient: Tensor
    let finalNormalized: Tensor, finalRstd: Tensor
    /// One row per sequence, for `encodeLastPositions`.
    let lastStream: Tensor, lastNormalized: Tensor, lastRstd: Tensor
    public var items: Embedding { input.items }
    public var fields: InputFields {
        get { input.fields }
        set { input.fields = newValue }
    }
    public let output: Tensor
    public let outputGradient: Tensor
    let prefix: ContextPrefix
    /// ln(maxLength − L) for each sequence of L events (−∞ when full), read by blocks that attend to padding.
    let paddingLogCounts: Tensor?
    public var context: Tensor { prefix.values }
    public var contextGradient: Tensor { prefix.gradient }
    public var contextTokens: Int { prefix.tokens }
    public var maxLength: Int { config.maxLength }
    public var length: Int { input.length }

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
        input = InputEmbedding(store, items: config.items, dimension: d, maxLength: config.maxLength, rows: rows,
                               layerNormEpsilon: config.block == .sasrec ? nil : config.layerNormEpsilon,
                               scaleBySqrtDimension: false, dropout: config.dropout,
                               countsFromNewest: config.positions == .fromNewest, behaviourTypes: behaviourTypes, valueBuckets: valueBuckets,
                               sharedItems: sharedItems, namePrefix: namePrefix)
        paddingLogCounts = config.attendPadding ? Tensor([batch]) : nil
        blocks = config.makeBlocks(store, namePrefix: namePrefix, batch: batch, causal: true, paddingLogCounts: paddingLogCounts)
        finalNorm = config.makeFinalNorm(store, namePrefix: namePrefix)
        (output, outputGradient) = (Tensor([rows, d]), Tensor([rows, d]))
        (stream, streamGradient) = finalNorm == nil ? (output, outputGradient) : (Tensor([rows, d]), Tensor([rows, d]))
        (finalNormalized, finalRstd) = finalNorm == nil ? (Tensor([0, d]), Tensor([0])) : (Tensor([rows, d]), Tensor([rows]))
        prefix = ContextPrefix(tokens: contextTokens, batch: batch, dimension: d)
        (lastStream, lastNormalized, lastRstd) = (Tensor([batch, d]), Tensor([batch, d]), Tensor([batch]))
        config.initialize(store.parameters[before...], seed: seed)
    }

    public func setLength(_ n: Int) {
        precondition(n >= 1 && n <= config.maxLength, "length \(n) outside 1...\(config.maxLength)")
        input.setLength(n, rows: batch * n)
        for block in blocks { block.setLength(n) }
        for t in [output, outputGradient, stream, streamGradient] { t.setRows(batch * n) }
        if finalNorm != nil { finalNormalized.setRows(batch * n); finalRstd.setRows(batch * n) }
    }

    public func forward(_ ids: [Int32], rng: inout RandomSource?) {
        forward(ids, lengths: [], contextCounts: nil, timestamps: nil, rng: &rng)
    }

    /// Lengths and timestamps are not needed: sequences are left-aligned and SASRec has no time bias.
    public func forward(_ ids: [Int32], lengths: [Int32], contextCounts: [Int32]?, timestamps: [Int64]?, rng: inout RandomSource?) {
        precondition(ids.count == output.rows, "expected \(output.rows) ids")
        prefix.use(contextCounts)
        let known = lengths.isEmpty ? nil : lengths
        countPadding(ids, lengths: known)
        input.forward(ids, lengths: known, into: stream, rng: &rng)
        prefix.add(into: stream, length: length)
        prefix.counts.withUnsafeBufferPointer { p in
            let prefixes = contextCounts == nil ? nil : p.baseAddress
            for block in blocks { block.forward(stream, keyValid: nil, prefixes: prefixes, rng: &rng) }
        }
        finalNorm?.forward(stream, into: output, normalized: finalNormalized, rstd: finalRstd)
    }

    public func encodeLastPositions(_ ids: [Int32], lengths: [Int32], timestamps: [Int64]?, into users: Tensor) {
        precondition(users.rows == batch && users.columns == config.dimension, "users must be \(batch) × \(config.dimension)")
        prefix.use(nil)
        countPadding(ids, lengths: lengths)
        var noDropout: RandomSource? = nil
        input.forward(ids, lengths: lengths, into: stream, rng: &noDropout)
        for block in blocks.dropLast() { block.forward(stream, keyValid: nil, prefixes: nil, rng: &noDropout) }
        lengths.withUnsafeBufferPointer { l in
            if let last = blocks.last {
                last.forwardLast(stream, lengths: l, into: lastStream)
                last.setLength(length)
            } else {
                gatherLastRows(stream, batch: batch, lengths: l, into: lastStream)
            }
        }
        if let finalNorm { finalNorm.forward(lastStream, into: users, normalized: lastNormalized, rstd: lastRstd) } else { users.copy(from: lastStream) }
    }

    /// Fills `paddingLogCounts` (when attending to padding) from each sequence's length: `lengths`, or
    /// the positions before its first padding id.
    private func countPadding(_ ids: [Int32], lengths: [Int32]?) {
        guard let paddingLogCounts else { return }
        let n = length
        for b in 0..<batch {
            let real = PaddedRows.realLength(ofRow: b, width: n, ids: ids, lengths: lengths)
            let padding = config.maxLength - real
            paddingLogCounts[b] = padding > 0 ? logf(Float(padding)) : -.infinity
        }
    }

    public func backward() {
        finalNorm?.backward(outputGradient, normalized: finalNormalized, rstd: finalRstd, dx: streamGradient)
        for block in blocks.reversed() { block.backward(streamGradient) }
        prefix.gatherGradient(from: streamGradient, length: length)
        input.backward(streamGradient)
    }
}
