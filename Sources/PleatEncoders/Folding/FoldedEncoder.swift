import PleatCore
import PleatTensor

/// An encoder over a long history, folded (model-spec §4.3): the events older than the recent window
/// are grouped by a key (category, cluster, time window) into up to G folds of up to C events. One
/// shared encoder (`folds`: HSTU, SASRec or BERT4Rec, same item table) encodes all folds of the batch at once;
/// each fold's last state, plus its key embedding and statistics, becomes a fold token:
///   f_g = LN(H_g[ℓ_g − 1] + E_key[key_g] + W_s · stats_g)
/// With behaviours, the statistics are per behaviour too (LBSF's multi-field fold encoding): how often
/// the user viewed, carted, bought in the fold, and how long ago each last happened.
/// The fold tokens are a prefix to the recent-window encoder (`main`, the same kind): they see one
/// another, and every window position sees all of them and causally the window (Option A of §4.3);
/// in BERT4Rec, which is bidirectional, everything sees everything.
/// Cost: B·G·C² for the folds plus B·(G + W)² for the window, against B·L² over the whole history.
public final class FoldedEncoder {
    public struct Shape: Sendable, Codable, Equatable {
        /// Fold tokens per sequence (G) and events per fold (C).
        public var groups = 64
        public var groupLength = 128
        /// Layers of the shared fold encoder.
        public var foldBlocks = 1
        /// Distinct fold keys (key ids are 1…keys; 0 is unused).
        public var keys = 1
        public init() {}
    }

    /// Per-fold statistics fed to W_s: log(1 + events in the fold), log(1 + days since its last event);
    /// then, for each behaviour 1…B of a model that embeds B, log(1 + its events in the fold) and
    /// log(1 + days since its last one in the fold) (0 and 0 when it has none).
    public static func statisticCount(behaviourTypes: Int) -> Int { 2 + 2 * behaviourTypes }

    public let shape: Shape
    public let batch: Int
    /// Statistics per fold (`statisticCount(behaviourTypes:)`).
    public let statisticCount: Int
    public let main: any ContextEncoder
    public let folds: any ContextEncoder
    let keyEmbedding: Embedding
    let statistics: Linear
    let norm: LayerNorm
    let summed: Tensor, xhat: Tensor, rstd: Tensor, keyed: Tensor, projected: Tensor, statisticsInput: Tensor
    var foldLengths: [Int32] = [], foldKeys: [Int32] = []
    public var store: ParameterStore { main.store }
    public var items: Embedding { main.items }

    /// Folded HSTU. `config.maxLength` is the recent window W; the main encoder is sized for G + W.
    /// `behaviourTypes` > 0: both encoders embed the events' behaviours (`Inputs.behaviours`, `foldBehaviours`);
    /// `valueBuckets` > 0 their values (`Inputs.values`, `foldValues`).
    public convenience init(hstu config: HSTUConfig, shape: Shape, batch: Int, seed: UInt64, behaviourTypes: Int = 0, valueBuckets: Int = 0) {
        var mainConfig = config, foldConfig = config
        (mainConfig.maxLength, foldConfig.maxLength, foldConfig.blocks) = (shape.groups + config.maxLength, shape.groupLength, shape.foldBlocks)
        let main = HSTUEncoder(config: mainConfig, batch: batch, seed: seed, contextTokens: shape.groups, behaviourTypes: behaviourTypes,
                       valueBuckets: valueBuckets)
        let folds = HSTUEncoder(config: foldConfig, batch: batch * shape.groups, seed: seed &+ 1, behaviourTypes: behaviourTypes, valueBuckets: valueBuckets,
                                store: main.store, namePrefix: "fold.", sharedItems: main.items)
        self.init(main: main, folds: folds, shape: shape, batch: batch, seed: seed, behaviourTypes: behaviourTypes,
                  layerNormEpsilon: config.layerNormEpsilon, layerNormAffine: config.layerNormAffine)
    }

    /// Folded SASRec. `config.maxLength` is the recent window W; the main encoder is sized for G + W.
    /// `behaviourTypes` > 0: both encoders embed the events' behaviours (`Inputs.behaviours`, `foldBehaviours`);
    /// `valueBuckets` > 0 their values (`Inputs.values`, `foldValues`).
    public convenience init(sasrec config: TransformerConfig, shape: Shape, batch: Int, seed: UInt64, behaviourTypes: Int = 0, valueBuckets: Int = 0) {
        let (mainConfig, foldConfig) = Self.configs(config, shape)
        let main = SASRecEncoder(config: mainConfig, batch: batch, seed: seed, contextTokens: shape.groups, behaviourTypes: behaviourTypes,
                       valueBuckets: valueBuckets)
        let folds = SASRecEncoder(config: foldConfig, batch: batch * shape.groups, seed: seed &+ 1, behaviourTypes: behaviourTypes, valueBuckets: valueBuckets,
                                  store: main.store, namePrefix: "fold.", sharedItems: main.items)
        self.init(main: main, folds: folds, shape: shape, batch: batch, seed: seed, behaviourTypes: behaviourTypes,
                  layerNormEpsilon: config.layerNormEpsilon, layerNormAffine: true)
    }

    /// Folded BERT4Rec. `config.maxLength` is the recent window W; the main encoder is sized for G + W.
    /// The fold tokens are a bidirectional prefix: every window position, [MASK]s included, sees them and
    /// they see the window. Each fold is encoded bidirectionally by the fold encoder and summarised by its
    /// last position's state (which sees the whole fold).
    public convenience init(bert4rec config: TransformerConfig, shape: Shape, batch: Int, seed: UInt64, behaviourTypes: Int = 0, valueBuckets: Int = 0) {
        let (mainConfig, foldConfig) = Self.configs(config, shape)
        let main = BERT4RecEncoder(config: mainConfig, batch: batch, seed: seed, contextTokens: shape.groups, behaviourTypes: behaviourTypes,
                                   valueBuckets: valueBuckets)
        let folds = BERT4RecEncoder(config: foldConfig, batch: batch * shape.groups, seed: seed &+ 1, behaviourTypes: behaviourTypes,
                                    valueBuckets: valueBuckets, store: main.store, namePrefix: "fold.", sharedItems: main.items)
        self.init(main: main, folds: folds, shape: shape, batch: batch, seed: seed, behaviourTypes: behaviourTypes,
                  layerNormEpsilon: config.layerNormEpsilon, layerNormAffine: true)
    }

    /// A softmax encoder's configs: the window encoder's (G + W positions) and the fold encoder's (C
    /// positions, `foldBlocks` layers).
    private static func configs(_ config: TransformerConfig, _ shape: Shape) -> (main: TransformerConfig, folds: TransformerConfig) {
        var main = config, folds = config
        (main.maxLength, folds.maxLength, folds.blocks) = (shape.groups + config.maxLength, shape.groupLength, shape.foldBlocks)
        return (main, folds)
    }

    /// `main` has `shape.groups` context tokens; `folds` runs batch·G sequences of C events in the same store.
    init(main: any ContextEncoder, folds: any ContextEncoder, shape: Shape, batch: Int, seed: UInt64, behaviourTypes: Int = 0,
         layerNormEpsilon: Float, layerNormAffine: Bool) {
        precondition(main.contextTokens == shape.groups && folds.maxLength == shape.groupLength, "encoders do not match the fold shape")
        (self.main, self.folds, self.shape, self.batch) = (main, folds, shape, batch)
        let d = main.context.columns, rows = batch * shape.groups
        keyEmbedding = Embedding(main.store, "fold.key_emb", rows: shape.keys + 1, dimension: d, paddingId: 0)
        statisticCount = Self.statisticCount(behaviourTypes: behaviourTypes)
        statistics = Linear(main.store, "fold.stats", inputs: statisticCount, outputs: d)
        norm = LayerNorm(main.store, "fold.ln", features: d, epsilon: layerNormEpsilon, affine: layerNormAffine)
        (summed, xhat, keyed, projected) = (Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]))
        rstd = Tensor([rows])
        statisticsInput = Tensor([rows, statisticCount])
        var rng = RandomSource(seed: seed &+ 2)
        Initializer.normal(keyEmbedding.table.value, std: 0.02, rng: &rng)
        Initializer.normal(statistics.weight.value, std: 0.02, rng: &rng)
    }

    /// The inputs of one batch. Window: `ids` (batch × (G + W), the first `foldCounts[b]` positions of a
    /// row are fold tokens with id 0, then the window's items), `lengths` (fold tokens + window events)
    /// and `timestamps` ((G + W) + 1 per row). Folds: `foldIds` (batch·G × C, right-padded),
    /// `foldLengths`, `foldTimes` (C + 1 per fold), `foldKeys` and `foldStatistics` (batch·G × `statisticCount`).
    /// `behaviours` and `foldBehaviours`: the behaviour id of each position of `ids` and `foldIds`, read
    /// by an encoder built with behaviour types; `values` and `foldValues` their value buckets.
    public struct Inputs {
        public var ids: [Int32], lengths: [Int32], foldCounts: [Int32], timestamps: [Int64], behaviours: [Int32], values: [Int32]
        public var foldIds: [Int32], foldLengths: [Int32], foldTimes: [Int64], foldKeys: [Int32], foldStatistics: [Float]
        public var foldBehaviours: [Int32], foldValues: [Int32]
        /// Statistics per fold in `foldStatistics`.
        public let statisticCount: Int

        public init(batch: Int, shape: Shape, window: Int, behaviourTypes: Int = 0) {
            let n = shape.groups + window, folds = batch * shape.groups
            (ids, lengths, foldCounts) = ([Int32](repeating: 0, count: batch * n), [Int32](repeating: 0, count: batch), [Int32](repeating: 0, count: batch))
            (behaviours, values) = (ids, ids)
            timestamps = [Int64](repeating: 0, count: batch * (n + 1))
            foldIds = [Int32](repeating: 0, count: folds * shape.groupLength)
            (foldBehaviours, foldValues) = (foldIds, foldIds)
            foldLengths = [Int32](repeating: 0, count: folds)
            foldTimes = [Int64](repeating: 0, count: folds * (shape.groupLength + 1))
            foldKeys = [Int32](repeating: 0, count: folds)
            statisticCount = FoldedEncoder.statisticCount(behaviourTypes: behaviourTypes)
            foldStatistics = [Float](repeating: 0, count: folds * statisticCount)
        }
    }

    public var output: Tensor { main.output }
    public var outputGradient: Tensor { main.outputGradient }

    public func forward(_ x: Inputs, rng: inout RandomSource?) {
        let c = shape.groupLength, d = main.context.columns
        precondition(x.statisticCount == statisticCount, "inputs carry \(x.statisticCount) statistics a fold, the encoder reads \(statisticCount)")
        (foldLengths, foldKeys) = (x.foldLengths, x.foldKeys)
        main.fields = InputFields(behaviours: x.behaviours, values: x.values)
        folds.fields = InputFields(behaviours: x.foldBehaviours, values: x.foldValues)
        folds.forward(x.foldIds, lengths: x.foldLengths, contextCounts: nil, timestamps: x.foldTimes, rng: &rng)
        // Pool: each fold's last state.
        for g in 0..<foldLengths.count {
            let row = summed.pointer + g * d, length = Int(foldLengths[g])
            if length > 0 { row.update(from: folds.output.pointer + (g * c + length - 1) * d, count: d) } else { row.update(repeating: 0, count: d) }
        }
        foldKeys.withUnsafeBufferPointer { keyEmbedding.forward($0, into: keyed) }
        x.foldStatistics.withUnsafeBufferPointer { statisticsInput.pointer.update(from: $0.start, count: $0.count) }
        statistics.forward(statisticsInput, into: projected)
        Tensor.add(summed, keyed, into: summed)
        Tensor.add(summed, projected, into: summed)
        norm.forward(summed, into: main.context, normalized: xhat, rstd: rstd)
        main.forward(x.ids, lengths: x.lengths, contextCounts: x.foldCounts, timestamps: x.timestamps, rng: &rng)
    }

    /// Back-propagates `outputGradient` through the window encoder, the fold tokens and the fold encoder.
    public func backward() {
        let c = shape.groupLength, d = main.context.columns
        main.backward()
        norm.backward(main.contextGradient, normalized: xhat, rstd: rstd, dx: summed)
        foldKeys.withUnsafeBufferPointer { keyEmbedding.backward($0, summed) }
        statistics.backward(statisticsInput, summed, dx: nil)
        folds.outputGradient.zero()
        for g in 0..<foldLengths.count where foldLengths[g] > 0 {
            (folds.outputGradient.pointer + (g * c + Int(foldLengths[g]) - 1) * d).update(from: summed.pointer + g * d, count: d)
        }
        folds.backward()
    }
}
