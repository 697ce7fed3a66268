/// Which of a user's already-seen items a recommendation list may hold: the one rule that validation,
/// test, offline evaluation, batch scoring and live scoring all apply, so that an offline figure
/// measures the list that is served.
///
/// - `exclude` (the default): a list never repeats an item of the user's history. A target the user has
///   already seen can then never be served, so it counts as a miss (`RankingMetrics.miss`): it stays in
///   the metrics' denominator and is never credited.
/// - `include`: every item is a candidate, seen or not; for logs where people come back to items
///   (re-orders, re-listens, the same restaurant).
public enum SeenItems: String, Sendable, Codable, CaseIterable {
    case exclude
    case include

    /// The rule of a model whose stored config predates the rule: what scoring did before it existed.
    public static let `default` = SeenItems.exclude

    /// Whether a list for `history` may hold `item`.
    @inlinable
    public func allows(_ item: Int32, after history: some Sequence<Int32>) -> Bool {
        self == .include || !history.contains(item)
    }

    /// The items a list for `history` leaves out (besides padding).
    public func excluded<C: Collection<Int32>>(from history: C) -> [Int32] {
        self == .include ? [] : Array(history)
    }

    /// The 0-based rank the served list would give `target` among every item (`RankingMetrics.fullRank`),
    /// or `RankingMetrics.miss` when this rule keeps it out of every list.
    public func rank(scores: UnsafeBufferPointer<Float>, target: Int32, history: some Collection<Int32>) -> Int {
        switch self {
        case .include:
            return RankingMetrics.fullRank(scores: scores, target: Int(target))
        case .exclude:
            if history.contains(target) { return RankingMetrics.miss }  // never served, so never credited
            return RankingMetrics.fullRank(scores: scores, target: Int(target), excluded: Set(history))
        }
    }
}
