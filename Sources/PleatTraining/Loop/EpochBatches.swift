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

    /// Fisher-Yates, the same draws as the loop has always used (so `groupBatches` 1 is the old order).
    private static func shuffle<T>(_ a: inout [T], rng: inout RandomSource) {
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, rng.below(i + 1)) }
    }
}
