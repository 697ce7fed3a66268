/// Leave-one-out by time: for users with at least 3 events the last is the test target, the one before
/// it the validation target, the rest train; shorter histories only train. Histories are in model
/// indices (items outside the vocabulary removed), oldest first.
public struct LeaveOneOutSplit: Sendable {
    public struct Example: Sendable, Equatable {
        /// Slot in `InteractionHistories`.
        public let user: Int
        /// The events before the target, oldest first.
        public let history: ArraySlice<Int32>
        public let historyTimes: ArraySlice<Int64>
        public let target: Int32
        public let targetTime: Int64
    }

    /// Model-index sequences of every user, parallel to the histories' slots.
    public let sequences: [[Int32]]
    public let sequenceTimes: [[Int64]]
    public let vocabulary: ItemVocabulary

    /// Filters, then splits (RecBole's protocol): items seen fewer than `minCount` times in all events
    /// leave the vocabulary and the sequences, and the split is made on what remains, so a target is
    /// never silently replaced by another event.
    public init(_ histories: InteractionHistories, minCount: Int = 1) {
        let vocabulary = ItemVocabulary(events: histories.items, minCount: minCount)
        self.vocabulary = vocabulary
        var sequences: [[Int32]] = [], times: [[Int64]] = []
        sequences.reserveCapacity(histories.userCount)
        for u in 0..<histories.userCount {
            var seq: [Int32] = [], ts: [Int64] = []
            for e in histories.range(u) {
                if let m = vocabulary.modelIndex(of: histories.items[e]) { seq.append(m); ts.append(histories.times[e]) }
            }
            sequences.append(seq)
            times.append(ts)
        }
        self.sequences = sequences
        sequenceTimes = times
    }

    /// Training events of a user: everything but the last two for users with at least 3 events.
    public func trainSequence(_ user: Int) -> ArraySlice<Int32> {
        let s = sequences[user]
        return s.count >= 3 ? s[..<(s.count - 2)] : s[...]
    }

    /// The validation example (target = second-to-last event), for users with at least 3 events.
    public func validation(_ user: Int) -> Example? { example(user, fromEnd: 2) }

    /// The test example (target = last event; history includes the validation event).
    public func test(_ user: Int) -> Example? { example(user, fromEnd: 1) }

    private func example(_ user: Int, fromEnd k: Int) -> Example? {
        let s = sequences[user], t = sequenceTimes[user]
        guard s.count >= 3 else { return nil }
        let i = s.count - k
        return Example(user: user, history: s[..<i], historyTimes: t[..<i], target: s[i], targetTime: t[i])
    }
}
