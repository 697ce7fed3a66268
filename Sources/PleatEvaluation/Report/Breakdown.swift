import Foundation
import PleatHistories

/// Per-user results grouped into buckets: by how long the user's history is, and by how popular the
/// item to predict is (its rank among items by training events).
enum Breakdown {
    static let historyEdges = [1, 5, 10, 20, 50, 100, 200]
    static let popularityEdges: [(upTo: Double, label: String)] = [(0.01, "top 1%"), (0.1, "1-10%"), (0.5, "10-50%"), (1.01, "bottom 50%")]

    static func ndcg10(_ ranks: [Int]) -> [Double] { ranks.map { $0 < 10 ? 1 / log2(Double($0 + 2)) : 0 } }

    static func byHistoryLength(_ examples: [SequenceSplit.Example], _ ranks: [Int]) -> [EvaluationReport.BucketResult] {
        let labels = historyEdges.indices.map { i in
            i + 1 < historyEdges.count ? "\(historyEdges[i])-\(historyEdges[i + 1] - 1)" : "\(historyEdges[i])+"
        }
        return buckets(labels, ranks) { r in historyEdges.lastIndex { examples[r].history.count >= $0 } ?? 0 }
    }

    static func byItemPopularity(_ examples: [SequenceSplit.Example], _ ranks: [Int], trainCounts: [Int]) -> [EvaluationReport.BucketResult] {
        let items = trainCounts.count - 1
        let order = (1...max(items, 1)).sorted { (trainCounts[$0], -$0) > (trainCounts[$1], -$1) }
        var position = [Int](repeating: 0, count: trainCounts.count)
        for (p, item) in order.enumerated() { position[item] = p }
        return buckets(popularityEdges.map(\.label), ranks) { r in
            let share = Double(position[Int(examples[r].target)]) / Double(max(items, 1))
            return popularityEdges.firstIndex { share < $0.upTo }!
        }
    }

    /// Targets already in the user's history ("repeat") and the others ("new").
    static func byTarget(_ examples: [SequenceSplit.Example], _ ranks: [Int]) -> [EvaluationReport.BucketResult] {
        buckets(["repeat", "new"], ranks) { r in examples[r].isRepeat ? 0 : 1 }
    }

    /// By the behaviour of the event to predict (its event type's name; "none" for an event without
    /// one): on a log that says how users touched items, which behaviours a model predicts well.
    static func byTargetBehaviour(_ examples: [SequenceSplit.Example], _ ranks: [Int], names: [Int16: String]) -> [EvaluationReport.BucketResult] {
        let labels = Set(examples.map { names[$0.targetBehaviour] ?? noBehaviour }).sorted()
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        return buckets(labels, ranks) { r in index[names[examples[r].targetBehaviour] ?? noBehaviour]! }
    }

    /// The label of targets without a behaviour.
    static let noBehaviour = "none"

    /// Non-empty buckets, in label order, with their users' HR@10 and NDCG@10.
    private static func buckets(_ labels: [String], _ ranks: [Int], bucketOf: (Int) -> Int) -> [EvaluationReport.BucketResult] {
        var users = [Int](repeating: 0, count: labels.count), hits = [Double](repeating: 0, count: labels.count)
        var gains = hits
        let gain = ndcg10(ranks)
        for r in ranks.indices {
            let b = bucketOf(r)
            users[b] += 1
            if ranks[r] < 10 { hits[b] += 1 }
            gains[b] += gain[r]
        }
        return labels.indices.filter { users[$0] > 0 }.map {
            EvaluationReport.BucketResult(bucket: labels[$0], users: users[$0], hr10: hits[$0] / Double(users[$0]), ndcg10: gains[$0] / Double(users[$0]))
        }
    }
}
