import PleatModel
import PleatHistories

/// The built-in reference rankers every report compares models against, fitted on the split's
/// training events only.
public enum Baseline: String, Sendable, Codable, CaseIterable {
    /// Most popular items first.
    case pop
    /// First-order item transitions: items that most often followed the user's last item, popularity
    /// breaking ties.
    case markov
    /// The user's most recent distinct items, newest first, then popularity.
    case recent
    /// The user's most frequent items, recency breaking ties, then popularity.
    case frequent

    public func ranker(_ split: SequenceSplit) -> any ItemRanker {
        switch self {
        case .pop: PopularityRanker(split: split)
        case .markov: TransitionRanker(split: split)
        case .recent: HistoryRanker(split: split, order: .recency)
        case .frequent: HistoryRanker(split: split, order: .frequency)
        }
    }

    /// Training-event counts scaled into [0, 0.5]: the popularity that breaks ties below a baseline's
    /// own scores (a transition's count, a history item's place: at least 1).
    static func popularityBelowOne(_ split: SequenceSplit) -> [Float] {
        let counts = split.trainCounts
        let most = Float(max(counts.max() ?? 1, 1))
        return counts.map { 0.5 * Float($0) / most }
    }

    /// How reports name it.
    public var title: String {
        switch self {
        case .pop: "most-popular"
        case .markov: "item transitions"
        case .recent: "most recent of the user's items"
        case .frequent: "most frequent of the user's items"
        }
    }
}
