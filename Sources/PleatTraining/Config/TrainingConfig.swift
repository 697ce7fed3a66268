import PleatHistories
import PleatModel

/// Everything a training run is decided by. Every field has a documented default; a run's config is
/// the defaults overlaid by a config file and then by `--set key=value` (see `TrainingConfig+Overrides`),
/// and the full result is stored with the model. Keys are the snake_case field paths, e.g.
/// `epochs`, `sasrec.loss`, `hstu.encoder.dropout`.
public struct TrainingConfig: Sendable, Codable, Equatable {
    public typealias Split = SplitRule.Kind

    public var model = ModelKind.sasrec
    /// Seeds initialisation, shuffling, dropout and negative sampling: equal seeds, equal runs.
    public var seed: UInt64 = 42
    /// Upper bound on epochs (one epoch = every training user once).
    public var epochs = 200
    /// Stop after this many epochs without a better validation NDCG@10.
    public var patience = 20
    public var batchSize = 128
    /// Adam (β1 0.9, β2 `adam_beta2`, ε 1e-8), constant rate after `warmup_steps` of linear warm-up.
    public var learningRate: Float = 1e-3
    public var adamBeta2: Float = 0.98
    public var warmupSteps = 0
    /// Decoupled (AdamW) decay; biases and LayerNorm parameters are never decayed.
    public var weightDecay: Float = 0
    /// Global gradient-norm clip; 0 turns it off.
    public var gradientClip: Double = 0
    /// Longest history an encoder sees: the most recent `max_length` events are kept.
    public var maxLength = 200
    /// Items with fewer events leave the vocabulary (and the sequences).
    public var minCount = 1
    public var split = Split.leaveOneOut
    /// For `split = time`: ISO-8601 date/time or Unix seconds; events from then on are held out.
    public var cutoff: String?
    public var sasrec = SASRecSettings()
    public var bert4rec = BERT4RecSettings()
    public var hstu = HSTUSettings()
    /// Folding of the history older than the window (SASRec, HSTU); off unless `fold.key` is set.
    public var fold = FoldSettings()

    public init() {}

    public init(model: ModelKind) {
        self.init()
        self.model = model
    }

    /// The data-side part: how the histories are split (what evaluation must repeat).
    public var splitRule: SplitRule { SplitRule(minCount: minCount, split: split, cutoff: cutoff) }

    /// The model-side part: what the trained model is (stored in its artifact).
    public var spec: ModelSpec {
        ModelSpec(kind: model, maxLength: maxLength, sasrec: sasrec, bert4rec: bert4rec, hstu: hstu, fold: fold)
    }
}
