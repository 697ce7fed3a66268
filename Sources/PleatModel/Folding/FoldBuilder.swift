import Foundation
import PleatEncoders

/// Builds the fold part of a folded batch (model-spec §4.3, step 2) from the events strictly older than
/// the window: per key, the most recent `groupLength` events in time order, the total event count and
/// the time of the last event; the `groups` most recently active keys are kept. Folds go into the prefix
/// oldest-active first, so the most recent fold sits next to the window.
final class FoldBuilder {
    let keys: FoldKeys
    let shape: FoldedEncoder.Shape
    var inputs: FoldedEncoder.Inputs
    private var slotOfKey: [Int32]
    private var collected: [[Int]]
    private var chosen: [Int32] = [], counts: [Int] = [], lastTimes: [Int64] = []
    /// Per chosen slot and behaviour 1…`behaviourTypes` (slot · types + behaviour − 1): its events in the
    /// fold and the time of its newest one (nil: none).
    private var behaviourCounts: [Int], behaviourLastTimes: [Int64?]

    /// Behaviour ids the encoders embed (`BehaviourSettings.embeddedTypes`; 0: none), and value buckets.
    let behaviourTypes: Int, valueBuckets: Int

    init(keys: FoldKeys, shape: FoldedEncoder.Shape, batch: Int, window: Int, behaviourTypes: Int = 0, valueBuckets: Int = 0) {
        self.keys = keys
        (self.behaviourTypes, self.valueBuckets) = (behaviourTypes, valueBuckets)
        self.shape = shape
        inputs = .init(batch: batch, shape: shape, window: window, behaviourTypes: behaviourTypes)
        behaviourCounts = [Int](repeating: 0, count: shape.groups * behaviourTypes)
        behaviourLastTimes = [Int64?](repeating: nil, count: shape.groups * behaviourTypes)
        slotOfKey = [Int32](repeating: 0, count: keys.count + 1)
        collected = (0..<shape.groups).map { _ in
            var a = [Int](); a.reserveCapacity(shape.groupLength); return a
        }
    }

    func clear() {
        for i in inputs.foldLengths.indices { inputs.foldLengths[i] = 0; inputs.foldKeys[i] = 0 }
        for i in inputs.foldCounts.indices { inputs.foldCounts[i] = 0 }
    }

    /// Folds the `older` events (all older than the window, which starts at `windowStart`) into row b and
    /// writes the fold tokens' times into `batch`'s row. Returns the number of folds.
    func fold(_ older: EventSequence, windowStart: Int64, row b: Int, batch: SequenceBatch) -> Int {
        let g = shape.groups, c = shape.groupLength
        let (items, times, behaviours, values) = (older.items, older.times, older.behaviours, older.values)
        chosen.removeAll(keepingCapacity: true); counts.removeAll(keepingCapacity: true); lastTimes.removeAll(keepingCapacity: true)
        var index = items.endIndex
        while index > items.startIndex {
            index -= 1
            let key = keys.key(item: items[index], time: times[index], windowStart: windowStart)
            guard key > 0 else { continue }
            var slot = Int(slotOfKey[Int(key)]) - 1
            if slot < 0 {
                guard chosen.count < g else { continue }
                slot = chosen.count
                chosen.append(key); counts.append(0); lastTimes.append(times[index])
                slotOfKey[Int(key)] = Int32(slot + 1)
                collected[slot].removeAll(keepingCapacity: true)
                for k in 0..<behaviourTypes { (behaviourCounts[slot * behaviourTypes + k], behaviourLastTimes[slot * behaviourTypes + k]) = (0, nil) }
            }
            counts[slot] += 1
            if let behaviours, case let id = Int(BehaviourSettings.encoderId(behaviours[index], types: behaviourTypes)), id > 0 {
                let s = slot * behaviourTypes + id - 1
                behaviourCounts[s] += 1
                if behaviourLastTimes[s] == nil { behaviourLastTimes[s] = times[index] }  // walking from the newest
            }
            if collected[slot].count < c { collected[slot].append(index) }
        }
        for key in chosen { slotOfKey[Int(key)] = 0 }

        let folds = chosen.count, t = b * (batch.length + 1)
        for slot in 0..<folds {
            let position = folds - 1 - slot, f = b * g + position, events = collected[slot]
            inputs.foldLengths[f] = Int32(events.count)
            inputs.foldKeys[f] = chosen[slot]
            for (j, e) in events.reversed().enumerated() {
                inputs.foldIds[f * c + j] = items[e]
                inputs.foldTimes[f * (c + 1) + j] = times[e]
                inputs.foldBehaviours[f * c + j] = behaviours.map { BehaviourSettings.encoderId($0[e], types: behaviourTypes) } ?? 0
                inputs.foldValues[f * c + j] = values.map { BehaviourSettings.valueId($0[e], buckets: valueBuckets) } ?? 0
            }
            for j in events.count..<c { (inputs.foldIds[f * c + j], inputs.foldBehaviours[f * c + j], inputs.foldValues[f * c + j]) = (0, 0, 0) }
            for j in events.count...c { inputs.foldTimes[f * (c + 1) + j] = windowStart }
            let statistics = f * inputs.statisticCount
            inputs.foldStatistics[statistics] = Float(log1p(Double(counts[slot])))
            inputs.foldStatistics[statistics + 1] = Self.daysFeature(since: lastTimes[slot], until: windowStart)
            for k in 0..<behaviourTypes {
                let s = slot * behaviourTypes + k
                inputs.foldStatistics[statistics + 2 + 2 * k] = Float(log1p(Double(behaviourCounts[s])))
                inputs.foldStatistics[statistics + 3 + 2 * k] = behaviourLastTimes[s].map { Self.daysFeature(since: $0, until: windowStart) } ?? 0
            }
            batch.times[t + position] = lastTimes[slot]
        }
        inputs.foldCounts[b] = Int32(folds)
        return folds
    }

    /// log(1 + days from `time` to `until`), 0 for a time at or after it.
    private static func daysFeature(since time: Int64, until: Int64) -> Float {
        Float(log1p(Double(max(0, until - time)) / 86_400))
    }

    /// Copies the window part (ids, lengths, times) from `batch` into the encoder inputs.
    func finish(_ batch: SequenceBatch) {
        inputs.ids = batch.ids
        inputs.behaviours = batch.behaviours
        inputs.values = batch.values
        inputs.lengths = batch.lengths
        inputs.timestamps = batch.times
    }
}
