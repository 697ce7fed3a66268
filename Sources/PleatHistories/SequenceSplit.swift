/// Train / validation / test examples from every user's history, in model indices (items outside the
/// vocabulary removed), oldest first.
///
/// - Leave-one-out (`cutoff` nil): for users with at least 3 events the last is the test target, the one
///   before it the validation target, the rest train; shorter histories only train.
/// - Global time split (`cutoff` set, Unix seconds): events before the cutoff are the user's past. The
///   first event at or after the cutoff is the test target; the last past event is the validation target
///   when another past event precedes it; the rest of the past trains. Later events are not used.
public struct SequenceSplit: Sendable {
    public struct Example: Sendable, Equatable {
        /// Slot in `InteractionHistories`.
        public let user: Int
        /// The events before the target, oldest first.
        public let history: ArraySlice<Int32>
        public let historyTimes: ArraySlice<Int64>
        public let target: Int32
        public let targetTime: Int64

        /// Whether the target is an item the user has already interacted with (a repeat): what the
        /// seen-items rule decides about, and what reports break down.
        public var isRepeat: Bool { history.contains(target) }

        public init(user: Int, history: ArraySlice<Int32>, historyTimes: ArraySlice<Int64>, target: Int32, targetTime: Int64) {
            precondition(history.count == historyTimes.count)
            (self.user, self.history, self.historyTimes, self.target, self.targetTime) = (user, history, historyTimes, target, targetTime)
        }
    }

    /// Model-index sequences of every user, parallel to the histories' slots.
    public let sequences: [[Int32]]
    public let sequenceTimes: [[Int64]]
    public let vocabulary: ItemVocabulary
    public let cutoff: Int64?
    /// Per user: past events (train + validation), and whether the event after them is a test target.
    private let pastCounts: [Int]
    private let hasTest: [Bool]

    /// Filters, then splits (RecBole's protocol): items seen fewer than `minCount` times in all events
    /// leave the vocabulary and the sequences, and the split is made on what remains, so a target is
    /// never silently replaced by another event.
    public init(_ histories: InteractionHistories, minCount: Int = 1, cutoff: Int64? = nil) {
        self.init(histories, vocabulary: ItemVocabulary(events: histories.items, minCount: minCount), cutoff: cutoff)
    }

    /// Splits with a vocabulary decided elsewhere (a data-parallel job's, from every shard's counts).
    public init(_ histories: InteractionHistories, vocabulary: ItemVocabulary, cutoff: Int64? = nil) {
        self.vocabulary = vocabulary
        self.cutoff = cutoff
        var sequences: [[Int32]] = [], times: [[Int64]] = [], pastCounts: [Int] = [], hasTest: [Bool] = []
        sequences.reserveCapacity(histories.userCount)
        for u in 0..<histories.userCount {
            var seq: [Int32] = [], ts: [Int64] = []
            for e in histories.range(u) {
                if let m = vocabulary.modelIndex(of: histories.items[e]) { seq.append(m); ts.append(histories.times[e]) }
            }
            let past: Int
            if let cutoff {
                past = ts.firstIndex { $0 >= cutoff } ?? ts.count
                hasTest.append(past >= 1 && past < ts.count)
                seq.removeSubrange(min(past + 1, seq.count)...)
                ts.removeSubrange(min(past + 1, ts.count)...)
            } else {
                hasTest.append(seq.count >= 3)
                past = seq.count >= 3 ? seq.count - 1 : seq.count
            }
            pastCounts.append(past)
            sequences.append(seq)
            times.append(ts)
        }
        self.sequences = sequences
        sequenceTimes = times
        self.pastCounts = pastCounts
        self.hasTest = hasTest
    }

    /// Index of the validation target: the last past event, when an earlier one remains to train on
    /// (leave-one-out: exactly the users with a test target).
    private func validationIndex(_ user: Int) -> Int? {
        let past = pastCounts[user]
        if cutoff == nil { return hasTest[user] ? past - 1 : nil }
        return past >= 2 ? past - 1 : nil
    }

    /// Training events of a user: the past without its validation event.
    public func trainSequence(_ user: Int) -> ArraySlice<Int32> { sequences[user][..<trainCount(user)] }

    public func trainTimes(_ user: Int) -> ArraySlice<Int64> { sequenceTimes[user][..<trainCount(user)] }

    private func trainCount(_ user: Int) -> Int { validationIndex(user) ?? pastCounts[user] }

    /// Every event before the test target: the training events and the validation event. What a model
    /// refitted after validation has chosen its epochs trains on (`refit`).
    public func pastSequence(_ user: Int) -> ArraySlice<Int32> { sequences[user][..<pastCounts[user]] }

    public func pastTimes(_ user: Int) -> ArraySlice<Int64> { sequenceTimes[user][..<pastCounts[user]] }

    /// The validation example (target = the last past event).
    public func validation(_ user: Int) -> Example? { validationIndex(user).map { example(user, at: $0) } }

    /// The test example (target = the first event after the past; its history includes validation).
    public func test(_ user: Int) -> Example? { hasTest[user] ? example(user, at: pastCounts[user]) : nil }

    private func example(_ user: Int, at i: Int) -> Example {
        let s = sequences[user], t = sequenceTimes[user]
        return Example(user: user, history: s[..<i], historyTimes: t[..<i], target: s[i], targetTime: t[i])
    }

    /// Each model index's number of training events (index 0, padding, is 0).
    public var trainCounts: [Int] {
        var counts = [Int](repeating: 0, count: vocabulary.count + 1)
        for u in sequences.indices { for item in trainSequence(u) { counts[Int(item)] += 1 } }
        return counts
    }

    public var validationExamples: [Example] { sequences.indices.compactMap(validation) }
    public var testExamples: [Example] { sequences.indices.compactMap(test) }
}
