import PleatCore
import PleatTensor

/// HSTU: input embedding → HSTU layers → L2 normalisation (research) or a final LayerNorm (benchmark).
/// Sequences are right-padded (real events first, id 0 after), as in the reference's jagged layout.
/// Sized for one batch shape, whose activations it allocates once.
public final class HSTUEncoder: SequenceEncoder {
    public let config: HSTUConfig
    public let batch: Int
    public let store: ParameterStore
    let input: InputEmbedding
    let blocks: [HSTUBlock]
    let finalNorm: LayerNorm?
    public var items: Embedding { input.items }
    public let output: Tensor
    public let outputGradient: Tensor
    let hidden: Tensor, xhat: Tensor, rstd: Tensor, norms: Tensor
    var lengths: [Int32]

    public init(config: HSTUConfig, batch: Int, seed: UInt64) {
        self.config = config
        self.batch = batch
        let rows = batch * config.maxLength, d = config.dimension, store = ParameterStore()
        self.store = store
        input = InputEmbedding(store, items: config.items, dimension: d, maxLength: config.maxLength, rows: rows,
                               layerNormEpsilon: config.inputLayerNorm ? config.layerNormEpsilon : nil,
                               scaleBySqrtDimension: !config.inputLayerNorm, dropout: config.dropout)
        blocks = (0..<config.blocks).map { HSTUBlock(store, "blocks.\($0)", config: config, batch: batch) }
        finalNorm = config.outputNorm == .layerNorm ? LayerNorm(store, "ln_out", features: d, epsilon: config.layerNormEpsilon) : nil
        (output, outputGradient, hidden, xhat) = (Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]))
        (rstd, norms) = (Tensor([rows]), Tensor([rows]))
        lengths = [Int32](repeating: 0, count: batch)
        var rng = RandomSource(seed: seed)
        for p in store.parameters where p.shape.count == 2 && !p.name.hasSuffix("pos_w") {
            Initializer.normal(p.value, std: 0.02, rng: &rng)
        }
    }

    /// Encodes right-padded `ids` (batch × maxLength) into `output`. `timestamps` (Unix seconds,
    /// maxLength + 1 per sequence) feed the time bias when the config has one. `rng` nil: evaluation.
    public func forward(_ ids: [Int32], rng: inout RandomSource?) { forward(ids, timestamps: nil, rng: &rng) }

    public func forward(_ ids: [Int32], timestamps: [Int64]?, rng: inout RandomSource?) {
        let n = config.maxLength
        for b in 0..<batch { lengths[b] = Int32(ids[(b * n)..<((b + 1) * n)].prefix { $0 != 0 }.count) }
        input.forward(ids, into: hidden, rng: &rng)
        lengths.withUnsafeBufferPointer { l in
            if let timestamps {
                timestamps.withUnsafeBufferPointer { t in
                    for block in blocks { block.forward(hidden, lengths: l, timestamps: t.baseAddress, rng: &rng) }
                }
            } else {
                for block in blocks { block.forward(hidden, lengths: l, timestamps: nil, rng: &rng) }
            }
        }
        if let finalNorm { finalNorm.forward(hidden, into: output, normalized: xhat, rstd: rstd) } else { L2Normalize.forward(hidden, into: output, norms: norms) }
    }

    public func backward() {
        if let finalNorm { finalNorm.backward(outputGradient, normalized: xhat, rstd: rstd, dx: hidden) } else {
            L2Normalize.backward(output, norms: norms, outputGradient, dx: hidden)
        }
        for block in blocks.reversed() { block.backward(hidden) }
        input.backward(hidden)
    }
}
