import PleatMetrics

/// What `Promotion.decide` found for one candidate: the figures on the held-out users, the rule, whether
/// the candidate may serve and why. Recorded in `promotions` (and a job's run), printed by `--json`.
public struct PromotionDecision: Sendable, Codable, Equatable {
    public var candidate: String
    /// The model serving when the decision was made (nil: none).
    public var serving: String?
    public var rule: PromotionRule
    /// The rule both models ranked under (the candidate's), and the held-out users compared on.
    public var seen: SeenItems
    public var users: Int
    public var candidateNdcg10: Double
    public var servingNdcg10: Double?
    public var bestBaseline: String
    public var baselineNdcg10: Double
    public var versusBestBaseline: PairedComparison
    public var versusServing: PairedComparison?
    /// What the rule decided.
    public var promoted: Bool
    /// Activated with --force whatever the rule decided.
    public var forced = false
    public var reason: String

    /// Whether the candidate's lists are made the ones served.
    public var activates: Bool { promoted || forced }
}
