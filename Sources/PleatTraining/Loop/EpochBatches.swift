import PleatCore

/// One epoch's mini-batches of user indices. Users are shuffled; with `groupBatches` > 1 they are then
/// cut into groups of that many batches and sorted by length within each group (stable, so equal
/// lengths keep the shuffled order), and the batches are shuffled so that short and long ones alternate
/// through the epoch. Every user is in exactly one batch; everything derives from `rng`.
enum EpochBatches {
    static func make(users: [Int], batchSize: Int, groupBatches: Int, length: (Int) -> Int,
                     rng: inout RandomSource) -> [ArraySlice<Int>] {
        var order = users
        shuffle(&order, rng: &rng)
        if groupBatches > 1 {
            let group = groupBatches * batchSize
            for start in stride(from: 0, to: order.count, by: group) {
                let range = start..<min(start + group, order.count)
                let sorted = order[range].enumerated().map { (length: length($0.element), rank: $0.offset, user: $0.element) }
                    .sorted { ($0.length, $0.rank) < ($1.length, $1.rank) }
                order.replaceSubrange(range, with: sorted.map(\.user))
            }
        }
        var batches = stride(from: 0, to: order.count, by: batchSize).map { order[$0..<min($0 + batchSize, order.count)] }
        if groupBatches > 1 { shuffle(&batches, rng: &rng) }
        return batches
    }

    /// Each batch's share of the epoch's positions relative to the mean batch's: Σ `positions` over its
    /// users divided by the mean of that sum over the batches. Scaling a step's mean loss by it makes
    /// every position weigh the same whichever batch it lands in, as one mean over the epoch would.
    /// All 1 when every batch holds as many positions; an epoch without positions weighs every batch 1.
    static func positionWeights(_ batches: [ArraySlice<Int>], positions: (Int) -> Int) -> [Float] {
        let sums = batches.map { $0.reduce(0) { $0 + positions($1) } }
        let total = sums.reduce(0, +)
        guard total > 0 else { return sums.map { _ in 1 } }
        return sums.map { Float(Double($0 * sums.count) / Double(total)) }
    }

    /// Fisher-Yates, the same draws as the loop has always used (so `groupBatches` 1 is the old order).
    private static func shuffle<T>(_ a: inout [T], rng: inout RandomSource) {
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, rng.below(i + 1)) }
    }
}
