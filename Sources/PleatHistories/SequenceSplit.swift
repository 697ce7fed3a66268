/// Train / validation / test examples from every user's history, in model indices (items outside the
/// vocabulary removed), oldest first.
///
/// - Leave-one-out (`cutoff` nil): for users with at least 3 events the last is the test target, the one
///   before it the validation target, the rest train; shorter histories only train.
/// - Global time split (`cutoff` set, Unix seconds): events before the cutoff are the user's past. The
///   first event at or after the cutoff is the test target; the last past event is the validation target
///   when another past event precedes it; the rest of the past trains. Later events are not used.
///
/// With target behaviours ("what will this user buy next?") only their events are validation and test
/// targets, and every event is history (`init(_:vocabulary:cutoff:targetBehaviours:)`).
public struct SequenceSplit: Sendable {
    public struct Example: Sendable, Equatable {
        /// Slot in `InteractionHistories`.
        public let user: Int
        /// The events before the target, oldest first, every behaviour.
        public let history: ArraySlice<Int32>
        public let historyTimes: ArraySlice<Int64>
        public let historyBehaviours: ArraySlice<Int16>
        /// Each history event's value (NaN: none).
        public let historyValues: ArraySlice<Float>
        public let target: Int32
        public let targetTime: Int64
        public let targetBehaviour: Int16
        /// The split's target behaviours (nil: every event is a target): what "already seen" means.
        public let targetBehaviours: Set<Int16>?

        /// The items the seen-items rule counts as already seen (`SequenceSplit.seenItems`).
        public var seenItems: ArraySlice<Int32> {
            targetBehaviours == nil ? history : ArraySlice(SequenceSplit.seenItems(history, behaviours: historyBehaviours, targetBehaviours: targetBehaviours))
        }

        /// Whether the target is an item the user has already seen (a repeat): what the seen-items rule
        /// decides about, and what reports break down.
        public var isRepeat: Bool { seenItems.contains(target) }

        /// `historyBehaviours` nil: every event's is `InteractionHistories.unknownBehaviour`; `historyValues`
        /// nil: no event has a value.
        public init(user: Int, history: ArraySlice<Int32>, historyTimes: ArraySlice<Int64>, historyBehaviours: ArraySlice<Int16>? = nil,
                    historyValues: ArraySlice<Float>? = nil,
                    target: Int32, targetTime: Int64, targetBehaviour: Int16 = InteractionHistories.unknownBehaviour,
                    targetBehaviours: Set<Int16>? = nil) {
            let behaviours = historyBehaviours ?? ArraySlice(repeating: InteractionHistories.unknownBehaviour, count: history.count)
            let values = historyValues ?? ArraySlice(repeating: .nan, count: history.count)
            precondition(history.count == historyTimes.count && history.count == behaviours.count && history.count == values.count)
            (self.user, self.history, self.historyTimes, self.historyBehaviours) = (user, history, historyTimes, behaviours)
            self.historyValues = values
            (self.target, self.targetTime, self.targetBehaviour, self.targetBehaviours) = (target, targetTime, targetBehaviour, targetBehaviours)
        }

        /// Field by field, a value missing (NaN) in both equal.
        public static func == (a: Example, b: Example) -> Bool {
            (a.user, a.target, a.targetTime, a.targetBehaviour) == (b.user, b.target, b.targetTime, b.targetBehaviour)
                && a.targetBehaviours == b.targetBehaviours && a.history == b.history && a.historyTimes == b.historyTimes
                && a.historyBehaviours == b.historyBehaviours
                && a.historyValues.elementsEqual(b.historyValues) { $0 == $1 || ($0.isNaN && $1.isNaN) }
        }
    }

    /// The items of a history that count as already seen: every event's or, with target behaviours,
    /// only those of target events. A shop asking "what will this user buy next?" may list an item the
    /// user viewed or put in the cart, not one already bought; evaluation, scoring and serving all ask here.
    public static func seenItems(_ items: some Collection<Int32>, behaviours: some Collection<Int16>, targetBehaviours: Set<Int16>?) -> [Int32] {
        guard let targetBehaviours else { return Array(items) }
        precondition(items.count == behaviours.count)
        return zip(items, behaviours).compactMap { targetBehaviours.contains($1) ? $0 : nil }
    }

    /// Model-index sequences of every user, parallel to the histories' slots, with each event's time and
    /// behaviour.
    public let sequences: [[Int32]]
    public let sequenceTimes: [[Int64]]
    public let sequenceBehaviours: [[Int16]]
    public let sequenceValues: [[Float]]
    public let vocabulary: ItemVocabulary
    public let cutoff: Int64?
    /// The behaviours whose events are targets (validation and test targets); nil: every event.
    public let targetBehaviours: Set<Int16>?
    /// Per user: past events (train + validation), and the indices of the validation and test targets.
    private let pastCounts: [Int]
    private let validationIndices: [Int?], testIndices: [Int?]
    /// Whether a time split kept the events after each user's test target (`laterExamples`).
    public let keepsLaterEvents: Bool

    /// Filters, then splits (RecBole's protocol): items seen fewer than `minCount` times in all events
    /// leave the vocabulary and the sequences, and the split is made on what remains, so a target is
    /// never silently replaced by another event.
    public init(_ histories: InteractionHistories, minCount: Int = 1, cutoff: Int64? = nil, targetBehaviours: Set<Int16>? = nil,
                keepLaterEvents: Bool = false) {
        self.init(histories, vocabulary: ItemVocabulary(events: histories.items, minCount: minCount), cutoff: cutoff,
                  targetBehaviours: targetBehaviours, keepLaterEvents: keepLaterEvents)
    }

    /// Splits with a vocabulary decided elsewhere (a data-parallel job's, from every shard's counts).
    ///
    /// Targets are events of `targetBehaviours` (nil: every event); every event, whatever its behaviour,
    /// is history.
    /// - Leave-one-out: the last target is the test target and the target before it the validation
    ///   target, when at least one event precedes that; events after the test target are dropped.
    ///   Other users only train, on their whole history.
    /// - Time split: the first target at or after the cutoff is the test target (when an event precedes
    ///   the cutoff); the last target before the cutoff is the validation target (when an event precedes
    ///   it); the past is the events before the cutoff. With `keepLaterEvents` the events after the test
    ///   target stay (`laterExamples`); else they are dropped.
    public init(_ histories: InteractionHistories, vocabulary: ItemVocabulary, cutoff: Int64? = nil, targetBehaviours: Set<Int16>? = nil,
                keepLaterEvents: Bool = false) {
        precondition(!keepLaterEvents || cutoff != nil, "later events exist only after a time split's cutoff")
        self.vocabulary = vocabulary
        keepsLaterEvents = keepLaterEvents
        self.cutoff = cutoff
        self.targetBehaviours = targetBehaviours
        let isTarget = { Self.isTarget($0, of: targetBehaviours) }
        var sequences: [[Int32]] = [], times: [[Int64]] = [], behaviours: [[Int16]] = [], values: [[Float]] = []
        var pastCounts: [Int] = [], validationIndices: [Int?] = [], testIndices: [Int?] = []
        sequences.reserveCapacity(histories.userCount)
        for u in 0..<histories.userCount {
            var seq: [Int32] = [], ts: [Int64] = [], bs: [Int16] = [], vs: [Float] = []
            for e in histories.range(u) {
                if let m = vocabulary.modelIndex(of: histories.items[e]) {
                    seq.append(m); ts.append(histories.times[e]); bs.append(histories.behaviours[e]); vs.append(histories.values[e])
                }
            }
            let past: Int, validation: Int?, test: Int?, end: Int
            if let cutoff {
                past = ts.firstIndex { $0 >= cutoff } ?? ts.count
                test = past >= 1 ? bs[past...].firstIndex(where: isTarget) : nil
                validation = bs[..<past].lastIndex(where: isTarget).flatMap { $0 >= 1 ? $0 : nil }
                end = keepLaterEvents && test != nil ? seq.count : test.map { $0 + 1 } ?? min(past + 1, seq.count)
            } else {
                let last = bs.lastIndex(where: isTarget)
                let before = last.flatMap { bs[..<$0].lastIndex(where: isTarget) }
                if let last, let before, before >= 1 {
                    (past, validation, test, end) = (last, before, last, last + 1)
                } else {
                    (past, validation, test, end) = (seq.count, nil, nil, seq.count)
                }
            }
            seq.removeSubrange(end...)
            ts.removeSubrange(end...)
            bs.removeSubrange(end...)
            vs.removeSubrange(end...)
            pastCounts.append(past)
            validationIndices.append(validation)
            testIndices.append(test)
            sequences.append(seq)
            times.append(ts)
            behaviours.append(bs)
            values.append(vs)
        }
        self.sequences = sequences
        sequenceTimes = times
        sequenceBehaviours = behaviours
        sequenceValues = values
        self.pastCounts = pastCounts
        self.validationIndices = validationIndices
        self.testIndices = testIndices
    }

    /// Whether events of `behaviour` are targets.
    public func isTarget(_ behaviour: Int16) -> Bool { Self.isTarget(behaviour, of: targetBehaviours) }

    private static func isTarget(_ behaviour: Int16, of targets: Set<Int16>?) -> Bool { targets?.contains(behaviour) ?? true }

    /// Training events of a user: the past without its validation event.
    public func trainSequence(_ user: Int) -> ArraySlice<Int32> { sequences[user][..<trainCount(user)] }

    public func trainTimes(_ user: Int) -> ArraySlice<Int64> { sequenceTimes[user][..<trainCount(user)] }

    public func trainBehaviours(_ user: Int) -> ArraySlice<Int16> { sequenceBehaviours[user][..<trainCount(user)] }

    public func trainValues(_ user: Int) -> ArraySlice<Float> { sequenceValues[user][..<trainCount(user)] }

    private func trainCount(_ user: Int) -> Int { validationIndices[user] ?? pastCounts[user] }

    /// Every event before the test target: the training events and the validation event. What a model
    /// refitted after validation has chosen its epochs trains on (`refit`).
    public func pastSequence(_ user: Int) -> ArraySlice<Int32> { sequences[user][..<pastCounts[user]] }

    public func pastTimes(_ user: Int) -> ArraySlice<Int64> { sequenceTimes[user][..<pastCounts[user]] }

    public func pastBehaviours(_ user: Int) -> ArraySlice<Int16> { sequenceBehaviours[user][..<pastCounts[user]] }

    public func pastValues(_ user: Int) -> ArraySlice<Float> { sequenceValues[user][..<pastCounts[user]] }

    /// The validation example (target = the last past target).
    public func validation(_ user: Int) -> Example? { validationIndices[user].map { example(user, at: $0) } }

    /// The test example (its history includes validation).
    public func test(_ user: Int) -> Example? { testIndices[user].map { example(user, at: $0) } }

    private func example(_ user: Int, at i: Int) -> Example {
        let s = sequences[user], t = sequenceTimes[user], b = sequenceBehaviours[user], v = sequenceValues[user]
        return Example(user: user, history: s[..<i], historyTimes: t[..<i], historyBehaviours: b[..<i], historyValues: v[..<i],
                       target: s[i], targetTime: t[i],
                       targetBehaviour: b[i], targetBehaviours: targetBehaviours)
    }

    /// Each model index's number of training events (index 0, padding, is 0).
    public var trainCounts: [Int] {
        var counts = [Int](repeating: 0, count: vocabulary.count + 1)
        for u in sequences.indices { for item in trainSequence(u) { counts[Int(item)] += 1 } }
        return counts
    }

    public var validationExamples: [Example] { sequences.indices.compactMap(validation) }
    public var testExamples: [Example] { sequences.indices.compactMap(test) }

    /// With `keepsLaterEvents`: every target at or after the cutoff of each user with a test target
    /// (the test target first), each from every event before it: a period's events as live scoring
    /// meets them, one after another.
    public var laterExamples: [Example] {
        precondition(keepsLaterEvents, "a split that kept its later events")
        return sequences.indices.flatMap { user -> [Example] in
            guard let first = testIndices[user] else { return [] }
            return (first..<sequences[user].count).filter { isTarget(sequenceBehaviours[user][$0]) }.map { example(user, at: $0) }
        }
    }
}
