import PleatTensor
import PleatModel
import PleatHistories

/// The repeat baselines: the user's own items first, then every other item by popularity. In logs where
/// people come back to items these are the baselines a model has to beat; under `seen = exclude` they
/// can serve none of their own items and fall back to popularity.
public final class HistoryRanker: ItemRanker {
    public enum Order: Sendable {
        /// The most recent distinct items, newest first.
        case recency
        /// The most frequent items in the history, the more recent breaking ties.
        case frequency
    }

    public let items: Int
    public let batchSize = 256
    let order: Order
    /// Training-event counts scaled into [0, 0.5]: below every history item's score (at least 1).
    private let popularity: [Float]

    public init(split: SequenceSplit, order: Order) {
        items = split.vocabulary.count
        self.order = order
        popularity = Baseline.popularityBelowOne(split)
    }

    public func scores(_ queries: [ScoringQuery], into scores: Tensor) {
        for (r, query) in queries.enumerated() {
            let row = scores.pointer + r * scores.columns
            row.update(from: popularity, count: items + 1)
            for (place, item) in Self.ordered(query.history.items, by: order).enumerated() {
                // Distinct items get 1, 2, 3, … from the last in order to the first: exact in Float32 for
                // any history shorter than 2^24 events.
                row[Int(item)] = 1 + Float(place)
            }
        }
    }

    /// The history's distinct items, last in `order` first: scores then rise towards the first.
    static func ordered(_ history: ArraySlice<Int32>, by order: Order) -> [Int32] {
        var last: [Int32: Int] = [:], count: [Int32: Int] = [:]
        for (position, item) in history.enumerated() {
            last[item] = position
            count[item, default: 0] += 1
        }
        let items = Array(last.keys)
        switch order {
        case .recency: return items.sorted { last[$0, default: 0] < last[$1, default: 0] }
        case .frequency: return items.sorted { (count[$0, default: 0], last[$0, default: 0]) < (count[$1, default: 0], last[$1, default: 0]) }
        }
    }
}
