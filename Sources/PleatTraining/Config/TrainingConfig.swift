import PleatModels
import PleatTensor

/// Everything a training run is decided by. Every field has a documented default; a run's config is
/// the defaults overlaid by a config file and then by `--set key=value` (see `TrainingConfig+Overrides`),
/// and the full result is stored with the model. Keys are the snake_case field paths, e.g.
/// `epochs`, `sasrec.loss`, `hstu.encoder.dropout`.
public struct TrainingConfig: Sendable, Codable, Equatable {
    public enum Split: String, Sendable, Codable { case leaveOneOut = "leave-one-out", time }

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
}

/// SASRec (model-spec §2): a causal post-LN Transformer; the loss is selectable.
public struct SASRecSettings: Sendable, Codable, Equatable {
    public enum Loss: String, Sendable, Codable {
        /// Softmax cross-entropy over every item at every position (SASRec+; the strongest).
        case ce
        /// The original: BCE with one uniformly sampled negative per position.
        case bce
        /// gBCE (gSASRec, §2.6) with `negatives` uniform negatives and calibration `gbce_t`.
        case gbce
    }

    public var encoder = TransformerConfig()
    public var loss = Loss.ce
    public var negatives = 256
    public var gbceT = 0.75

    public init() {}
}

/// BERT4Rec (model-spec §3): a bidirectional Transformer trained on the Cloze task.
public struct BERT4RecSettings: Sendable, Codable, Equatable {
    public var encoder = TransformerConfig()
    /// Share of a sequence's items replaced by [MASK] (at least one).
    public var maskProbability = 0.2
    /// At most this many masked items per sequence.
    public var maxPredictions = 40
    /// How the last item, the one next-item prediction is about, is trained.
    public var lastItem = LastItem.separateInstance

    public enum LastItem: String, Sendable, Codable {
        /// Each user also gives a second instance with only the last item masked (the reference).
        case separateInstance = "separate-instance"
        /// The last item is always among the Cloze instance's masked items (one instance per user).
        case alwaysMasked = "always-masked"
        /// Masked only when the random draw picks it.
        case random
    }

    public init() {}
}

/// HSTU (model-spec §1), the research variant, trained with sampled softmax.
public struct HSTUSettings: Sendable, Codable, Equatable {
    public var encoder = HSTUConfig()
    /// Uniform negatives per step, shared by every position of the batch. Departure from the spec (128
    /// drawn per position): sharing turns the loss into one matrix product, and a shared set needs to be
    /// larger to contrast as much (on ML-100K, 128 shared reached valid NDCG@10 0.07, 1,024 reached 0.11).
    public var negatives = 1_024
    public var temperature: Float = 0.05

    public init() {}
}

/// Folding of long histories (model-spec §4.3): events older than the recent window (`max_length`) are
/// grouped by `key` into at most `groups` folds of their `group_length` most recent events.
public struct FoldSettings: Sendable, Codable, Equatable {
    public enum Key: String, Sendable, Codable {
        /// No folding: the model sees the last `max_length` events only.
        case none
        /// The item's category from item metadata (the first genre when there is no category).
        case category
        /// Balanced k-means clusters of a trained model's item embeddings (`cluster_model`).
        case cluster
        /// Time windows of `time_window_days` before the window's first event (a baseline).
        case time
    }

    public var key = Key.none
    /// G: fold tokens per user (the most recently active folds).
    public var groups = 64
    /// C: events kept per fold (its most recent ones).
    public var groupLength = 128
    /// Layers of the shared fold encoder.
    public var foldBlocks = 1
    public var timeWindowDays = 30.0
    /// Clusters for `key = cluster`, and the registered model whose item embeddings they come from.
    public var clusters = 256
    public var clusterModel = ""
    /// In training, a user's window ends at a random event among the last `window_end_spread` of their
    /// history (so fold contents vary); evaluation always ends it at the last event.
    public var windowEndSpread = 0.2
    /// Training windows drawn per user and epoch (each with its own end), so that long histories give
    /// more than one window's worth of targets per epoch.
    public var windowsPerUser = 1

    public init() {}
}
