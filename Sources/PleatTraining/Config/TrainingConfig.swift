import PleatCore
import PleatHistories
import PleatMetrics
import PleatModel
import PleatTensor

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
    /// Stop after the epoch that brings the run's training and validation time past this many seconds
    /// (0: no limit): a nightly job with a window, or a benchmark with a budget.
    public var timeLimitSeconds: Double = 0
    /// Also evaluate the test split after every epoch and keep it in the epoch records: the curve and
    /// the time to a quality level, for reports only. Never used to choose an epoch or a setting.
    public var testCurve = false
    /// After validation has chosen the number of epochs, train the model again from its initial
    /// weights on every event before the test targets (the validation events too) for that many
    /// epochs, with the same schedule: the run's model is that one, its test figures are that one's, and
    /// its validation figures are the chosen epoch's. Off by default because it doubles the training
    /// time; turn it on for the model you deploy, which then knows every user's newest event
    /// (docs/benchmarks/quality.md measures the gain).
    public var refit = false
    public var batchSize = 128
    /// Batches whose users are sorted by history length together, each epoch: users are shuffled, cut
    /// into groups of this many batches, sorted by length within a group, and the batches shuffled. A
    /// batch then holds sequences of similar length and costs about its own positions, not the longest
    /// history's (`SequenceBatch.pack`). 1: plain shuffled batches. Ignored when folding (fixed shapes).
    /// Off by default because, alone, batches of like lengths train worse; with `position_weighted_steps`
    /// they train as well for less (docs/benchmarks/quality.md, "Grouped batches weighted by positions").
    public var lengthGroupBatches = 1
    /// Scale each step's gradient by its batch's positions (Σ min(events − 1, `max_length`) over its
    /// users) over the epoch's mean per batch, so that a position weighs the same in a short batch as in
    /// a long one, as with shuffled batches. A step's loss is a mean over its own positions, so without
    /// this a batch of short histories (from `length_group_batches`) moves the weights as far as one of
    /// long histories with ten times the positions. Off by default because BERT4Rec, whose loss counts
    /// masked positions, does not gain from it; the `configs/amazon/` SASRec and HSTU files turn it on.
    public var positionWeightedSteps = false
    /// Adam (β1 0.9, β2 `adam_beta2`, ε 1e-8) at `learning_rate`, after `warmup_steps` of linear warm-up
    /// from 0, then held (`lr_decay = none`) or decayed to 0 at the last step of `epochs`.
    public var learningRate: Float = 1e-3
    public var adamBeta2: Float = 0.98
    public var warmupSteps = 0
    public var lrDecay = Decay.none
    /// Decoupled (AdamW) decay; biases and LayerNorm parameters are never decayed.
    public var weightDecay: Float = 0
    /// Global gradient-norm clip; 0 turns it off.
    public var gradientClip: Double = 0
    /// Train on the users of one shard only (`I/N`, docs/sharding.md): a fixed sample of about 1/N of
    /// the users, the same on every run and machine. `0/1` (the default) is every user.
    public var shard = Shard.all
    /// Longest history an encoder sees: the most recent `max_length` events are kept.
    public var maxLength = 200
    /// Items with fewer events leave the vocabulary (and the sequences).
    public var minCount = 1
    public var split = Split.leaveOneOut
    /// For `split = time`: ISO-8601 date/time or Unix seconds; events from then on are held out.
    public var cutoff: String?
    /// The behaviours whose events are targets ("what will this user buy next?"): only their events
    /// are labels, validation and test targets, while every event is history. Event type names, e.g.
    /// `target_events = [buy]`; nil (the default): every event is a target. With target events an item
    /// counts as already seen (`seen`) only once the user has done it with one of them: under `exclude`
    /// a list for purchases leaves out what the user bought, not what they viewed.
    public var targetEvents: EventNames?
    /// Which of a user's already-seen items a served list may hold (`SeenItems`): `exclude` (the
    /// default; a target the user has seen counts as a miss) or `include` (for logs where people come
    /// back to items). Validation chooses epochs under it, test figures are measured under it, and
    /// scoring, serving and `pleat evaluate` apply it to the registered model.
    public var seen = SeenItems.default
    public var sasrec = SASRecSettings()
    public var bert4rec = BERT4RecSettings()
    public var hstu = HSTUSettings()
    /// Folding of the history older than the window (SASRec, HSTU); off unless `fold.key` is set.
    public var fold = FoldSettings()
    /// Whether the encoder reads each event's behaviour, e.g. `behaviour.input = embedding`
    /// (`BehaviourSettings`; off by default: a log without an event column has nothing to read).
    public var behaviour = BehaviourSettings()
    /// Start from a registered model, e.g. `warm_start.parent = <model id>` (`WarmStartSettings`; off by
    /// default: a run starts from random weights and trains for `epochs` on every user).
    public var warmStart = WarmStartSettings()

    public enum Decay: String, Sendable, Codable, CaseIterable {
        case none, linear, cosine
    }

    public init() {}

    public init(model: ModelKind) {
        self.init()
        self.model = model
    }

    /// The data-side part: how the histories are split (what evaluation must repeat).
    public var splitRule: SplitRule { SplitRule(minCount: minCount, split: split, cutoff: cutoff, targetEvents: targetEvents) }

    /// The most epochs the run trains: `epochs`, or a warm start's own `warm_start.epochs`.
    public var epochLimit: Int { warmStart.isOn ? warmStart.epochs : epochs }

    /// The learning rate of every step, for epochs of `stepsPerEpoch` steps; a warm start's rises over
    /// `warm_start.warmup_steps` to `warm_start.learning_rate` and stays there.
    public func schedule(stepsPerEpoch: Int) -> LearningRateSchedule {
        if warmStart.isOn {
            let rate = warmStart.learningRate > 0 ? warmStart.learningRate : learningRate
            return warmStart.warmupSteps > 0 ? .warmup(peak: rate, warmup: warmStart.warmupSteps) : .constant(rate)
        }
        let total = epochs * stepsPerEpoch
        switch lrDecay {
        case .none: return warmupSteps > 0 ? .warmup(peak: learningRate, warmup: warmupSteps) : .constant(learningRate)
        case .linear: return .warmupLinearDecay(peak: learningRate, warmup: warmupSteps, total: total)
        case .cosine: return .warmupCosine(peak: learningRate, warmup: warmupSteps, total: total)
        }
    }

    /// The model-side part: what the trained model is (stored in its artifact).
    public var spec: ModelSpec {
        ModelSpec(kind: model, maxLength: maxLength, sasrec: sasrec, bert4rec: bert4rec, hstu: hstu, fold: fold, behaviour: behaviour)
    }
}
