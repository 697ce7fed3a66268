/// When a trained model may become the one that serves: on each user's last held-out event (which
/// neither it nor the serving model chose its epochs on), it must rank no worse than the serving model
/// beyond `maxDrop` of NDCG@10, and better than the best of `baselines` with a paired test's p below
/// `significance` (`pleat evaluate`'s test). Pipelines, jobs and `pleat score` apply it before they
/// activate a model; only `--force` activates one that fails it, and that is recorded.
public struct PromotionRule: Sendable, Codable, Equatable {
    /// The largest drop of NDCG@10 against the serving model that is still a promotion (0: no worse).
    public var maxDrop = 0.0
    /// The paired test's p-value the gain over the best baseline must stay below.
    public var significance = 0.05
    /// The baselines the model must beat (the best of them on these users).
    public var baselines: [Baseline] = Baseline.allCases

    public init(maxDrop: Double = 0, significance: Double = 0.05, baselines: [Baseline] = Baseline.allCases) {
        precondition((0...1).contains(maxDrop) && significance > 0 && significance <= 1 && !baselines.isEmpty)
        (self.maxDrop, self.significance, self.baselines) = (maxDrop, significance, baselines)
    }
}
