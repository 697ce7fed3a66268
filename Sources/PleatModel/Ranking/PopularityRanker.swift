import PleatTensor
import PleatHistories

/// The most-popular baseline: every user gets the items ranked by their count in the training events.
public final class PopularityRanker: ItemRanker {
    public let items: Int
    public let batchSize = 256
    private let counts: [Float]

    public init(split: SequenceSplit) {
        items = split.vocabulary.count
        counts = split.trainCounts.map(Float.init)
    }

    public func scores(_ queries: [ScoringQuery], into scores: Tensor) {
        for r in queries.indices { (scores.pointer + r * scores.columns).update(from: counts, count: items + 1) }
    }
}
