import PleatTensor
import PleatModel
import PleatHistories

/// The first-order Markov baseline: score(j | last item a) = count(a → j) in the training sequences,
/// plus a popularity term below one count, so unseen transitions fall back to the most popular items.
public final class TransitionRanker: ItemRanker {
    public let items: Int
    public let batchSize = 256
    /// Each item's successors and how often they followed it.
    private let successors: [[(item: Int32, count: Float)]]
    private let popularity: [Float]

    public init(split: SequenceSplit) {
        items = split.vocabulary.count
        var counts = [[Int32: Int]](repeating: [:], count: items + 1)
        for user in split.sequences.indices {
            let train = split.trainSequence(user)
            for (a, b) in zip(train, train.dropFirst()) { counts[Int(a)][b, default: 0] += 1 }
        }
        successors = counts.map { $0.map { (item: $0.key, count: Float($0.value)) } }
        popularity = Baseline.popularityBelowOne(split)
    }

    public func scores(_ queries: [ScoringQuery], into scores: Tensor) {
        for (r, query) in queries.enumerated() {
            let row = scores.pointer + r * scores.columns
            row.update(from: popularity, count: items + 1)
            guard let last = query.history.items.last else { continue }
            for next in successors[Int(last)] { row[Int(next.item)] += next.count }
        }
    }
}
