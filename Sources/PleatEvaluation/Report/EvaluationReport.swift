import PleatMetrics
import PleatModel

/// Everything one offline evaluation measured: `metrics.json`, and what the HTML and Markdown reports
/// render. Metric keys follow `RankingMetrics.summary` (`hr@10`, `ndcg@10`, `mrr`).
public struct EvaluationReport: Sendable, Codable {
    public var createdAt: String
    /// Which examples: "test" (each user's last event), "valid" (the one before) or "after TIME"
    /// (the events from then on).
    public var split: String
    /// The seen-items rule every list and rank followed.
    public var seen: SeenItems
    public var snapshotBatch: Int
    public var users: Int
    /// Target events ranked: one per user, or with `--after` every event of the period.
    public var targets: Int
    /// Targets that are items the user had already seen.
    public var repeatTargets: Int
    public var items: Int
    public var cutoffs: [Int]
    /// The length of the lists that coverage and popularity describe.
    public var listLength: Int
    /// The baseline with the best NDCG@10, that each model is tested against.
    public var bestBaseline: String?
    public var rankers: [RankerResult]
    public var seconds: Double

    public struct RankerResult: Sendable, Codable {
        /// The model id, or the baseline's name.
        public var name: String
        /// "sasrec", "bert4rec", "hstu", or "baseline".
        public var kind: String
        public var title: String
        public var metrics: MetricSummary
        /// Share of the catalogue that appears in at least one user's list.
        public var coverage: Double
        /// Mean training-event count of the listed items, and that relative to the catalogue's mean.
        public var meanPopularity: Double
        public var relativePopularity: Double
        /// Against sampled negatives, by distribution ("uniform", "popularity"), when asked for.
        public var sampled: [String: MetricSummary]
        public var byHistoryLength: [BucketResult]
        public var byItemPopularity: [BucketResult]
        /// Targets the user had already seen ("repeat") and new ones ("new").
        public var byTarget: [BucketResult]
        /// By the behaviour of the target event (its event type), e.g. "buy" and "cart".
        public var byTargetBehaviour: [BucketResult] = []
        /// NDCG@10 per user compared with the best baseline's (nil for baselines).
        public var versusBestBaseline: PairedComparison?
        /// NDCG@10 per user compared with each other model's, by its name (nil for baselines and when one
        /// model is evaluated): whether a model variant beats another on the same users.
        public var versusModels: [String: PairedComparison]?
        /// Validation NDCG@10 (and loss) per epoch, from the model registry.
        public var trainingCurve: [EpochRecord]
    }

    public struct BucketResult: Sendable, Codable, Equatable {
        public var bucket: String
        public var users: Int
        public var hr10: Double
        public var ndcg10: Double
    }

    public func ranker(_ name: String) -> RankerResult? { rankers.first { $0.name == name } }
}
