import PleatModel

/// Training that starts from a registered model rather than from random weights (`pleat train
/// --warm-start`): the nightly update that costs a fraction of a full retrain. The parent's vocabulary is
/// extended with the items that are new since its data snapshot (old items keep their rows), and the run
/// trains on the users with newer events plus a replay sample of the others, for `epochs` epochs at
/// `learning_rate`; validation still chooses the epoch.
public struct WarmStartSettings: Sendable, Codable, Equatable {
    /// The registered model to start from; "" (the default) is a cold start. `pleat train --warm-start
    /// serving` puts the serving model's id here, so the stored config names the parent (the lineage).
    public var parent = ""
    /// Share of the users without events newer than the parent's snapshot that train too, drawn once per
    /// run from the seed: replaying them keeps the model from forgetting what those users taught it. All of
    /// them by default; a smaller share trades quality for time on logs where few users change a day.
    public var replayShare = 1.0
    /// Epochs of a warm-started run: it starts close to its optimum, so its schedule is its own, not `epochs`.
    /// Ten epochs over every user cost 13-17% of a full retrain's seconds in the replay's validation runs
    /// (docs/benchmarks/replay.md); three over the changed users and a 0.2 replay sample learned too little
    /// of the new items (Taobao head: 0.0365 against the full retrain's 0.078).
    public var epochs = 10
    /// Learning rate of a warm-started run (constant after `warmup_steps`); 0 takes `learning_rate`.
    public var learningRate: Float = 0
    /// Steps over which the learning rate rises linearly to `learning_rate`: the optimiser starts fresh, and
    /// a fresh Adam's first steps move every weight by the full rate whatever its gradient's size.
    public var warmupSteps = 0
    /// Share of the parent's weights a warm start keeps, the rest taken from a fresh initialisation
    /// (shrink and perturb, Ash & Adams, NeurIPS 2020): a network trained on and on from its own weights
    /// generalises worse than a fresh one; pulling it part of the way back restores that while keeping most
    /// of what it learned. Epoch 0, the candidate an epoch must beat, is still the parent's own weights.
    /// 1 (the default) keeps the parent's weights as they are.
    public var shrink: Float = 1
    /// Which optimiser state the run starts with: `parent` (the parent's Adam moments and step, saved
    /// beside its weights, so that the first steps are as small as the parent's last; fresh when the
    /// parent has none) or `fresh` (zero moments).
    public var optimizer = OptimizerStart.parent
    /// How a new item's rows start: `category` (the mean of its category's rows, where item metadata gives
    /// one), `random` (as at a cold start), or `auto`: `category` for the models that rank by dot product
    /// (SASRec, BERT4Rec) and `random` for HSTU, which ranks by cosine: there a category's mean row is
    /// closer to the category's users than its own items are, and new items at it lead every list until
    /// training moves them (measured in docs/benchmarks/replay.md).
    public var newItems = NewItemRows.auto
    /// Also put items that have metadata but no event yet into the vocabulary, their rows set after
    /// training to the mean of their category's rows: an item added to the catalogue today can be
    /// recommended before anyone has touched it (cold start). Off by default: such an item is ranked by its
    /// category alone.
    public var coldItems = false

    public enum NewItemRows: String, Sendable, Codable, CaseIterable {
        case auto, category, random

        /// `auto` made concrete for a model of `kind`.
        public func resolved(for kind: ModelKind) -> NewItemRows {
            guard self == .auto else { return self }
            return kind == .hstu ? .random : .category
        }
    }

    public enum OptimizerStart: String, Sendable, Codable, CaseIterable {
        case parent, fresh
    }

    public init() {}

    /// Whether the run starts from a parent.
    public var isOn: Bool { !parent.isEmpty }
}
