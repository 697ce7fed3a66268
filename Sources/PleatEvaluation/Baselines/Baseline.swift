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

    public func ranker(_ split: SequenceSplit) -> any ItemRanker {
        switch self {
        case .pop: PopularityRanker(split: split)
        case .markov: TransitionRanker(split: split)
        }
    }

    /// How reports name it.
    public var title: String {
        switch self {
        case .pop: "most-popular"
        case .markov: "item transitions"
        }
    }
}
