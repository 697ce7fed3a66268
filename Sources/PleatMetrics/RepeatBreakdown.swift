/// Ranking metrics for targets the user had already seen (repeats) and for new items, apart. On logs
/// where people come back to items, the two differ by an order of magnitude, and which rule
/// (`SeenItems`) a figure was measured under decides what the repeat part can be: under `exclude` it is
/// a miss by construction.
public struct RepeatBreakdown: Sendable, Equatable {
    public private(set) var repeats: RankingMetrics
    public private(set) var new: RankingMetrics

    public init(cutoffs: [Int] = RankingMetrics.defaultCutoffs) {
        repeats = RankingMetrics(cutoffs: cutoffs)
        new = RankingMetrics(cutoffs: cutoffs)
    }

    /// Parts measured apart (e.g. summed over the processes of a data-parallel run).
    public init(repeats: RankingMetrics, new: RankingMetrics) {
        precondition(repeats.cutoffs == new.cutoffs)
        (self.repeats, self.new) = (repeats, new)
    }

    /// Each target's rank, grouped by whether the target was already in the user's history.
    public init(ranks: [Int], isRepeat: [Bool], cutoffs: [Int] = RankingMetrics.defaultCutoffs) {
        precondition(ranks.count == isRepeat.count)
        self.init(cutoffs: cutoffs)
        for i in ranks.indices { add(rank: ranks[i], isRepeat: isRepeat[i]) }
    }

    public mutating func add(rank: Int, isRepeat: Bool) {
        if isRepeat { repeats.add(rank: rank) } else { new.add(rank: rank) }
    }

    /// Share of targets that are repeats (0 when there are none).
    public var repeatShare: Double {
        let all = repeats.count + new.count
        return all > 0 ? Double(repeats.count) / Double(all) : 0
    }

    public var summary: Summary {
        Summary(repeat: Group(users: repeats.count, metrics: repeats.summary), new: Group(users: new.count, metrics: new.summary),
                repeatShare: repeatShare)
    }

    /// The JSON form: `{"repeat": {"users": …, "metrics": {"ndcg@10": …}}, "new": {…}, "repeat_share": …}`.
    public struct Summary: Sendable, Codable, Equatable {
        public var `repeat`: Group
        public var new: Group
        public var repeatShare: Double

        private enum CodingKeys: String, CodingKey { case `repeat`, new, repeatShare = "repeat_share" }
    }

    public struct Group: Sendable, Codable, Equatable {
        public var users: Int
        public var metrics: MetricSummary
    }
}
