import PleatCore
import PleatEncoders
import PleatTensor

/// The batch layout every model shares: sequences left-aligned (oldest kept event at position 0) and
/// right-padded with 0, truncated to the most recent events; one row of `length` ids per sequence.
/// Also the per-position labels (−1: no loss), and the loss over the labelled rows only.
///
/// Rows are placed at `maxLength` positions; `pack()` then shortens every row to the longest placed one,
/// so that the encoder (`SequenceEncoder.setLength`) spends nothing on positions no sequence of the
/// batch reaches. Left-aligned rows make this exact: the dropped positions are padding at the end.
final class SequenceBatch {
    let batch: Int, maxLength: Int
    /// Positions per row in the current layout: `maxLength` until `pack()`.
    private(set) var length: Int
    /// Whether `pack()` shortens the rows (tests compare against the padded layout with it off).
    var packs = true
    var ids: [Int32]
    /// Each position's behaviour id, laid out as `ids` (0: none, padding, or a type past `behaviourTypes`).
    var behaviours: [Int32]
    /// Each position's next behaviour: that of the event its output predicts (for a query's last
    /// position, the behaviour asked for); laid out as `ids`. Read by interleaved tokens.
    var nextBehaviours: [Int32]
    /// Behaviour ids the model embeds (1…this); the placed ones past it read as 0.
    let behaviourTypes: Int
    /// Each position's value bucket (`BehaviourSettings.valueId`), laid out as `ids`.
    var values: [Int32]
    /// Value buckets the model embeds (0: none).
    let valueBuckets: Int
    /// What the encoder reads besides the ids: the behaviours and values of a model that embeds them.
    var fields: InputFields { InputFields(behaviours: behaviourTypes > 0 ? behaviours : nil, values: valueBuckets > 0 ? values : nil) }
    var labels: [Int32]
    /// Unix seconds, `length + 1` per sequence: event times, then the time of what follows (HSTU).
    var times: [Int64]
    /// Real positions per row (context tokens included).
    var lengths: [Int32]
    /// Rows (b·length + i) whose label is set, in order.
    private var labelled: [Int] = []
    private let scratch = Scratch()

    init(batch: Int, length: Int, behaviourTypes: Int = 0, valueBuckets: Int = 0) {
        self.batch = batch
        maxLength = length
        self.length = length
        (self.behaviourTypes, self.valueBuckets) = (behaviourTypes, valueBuckets)
        ids = [Int32](repeating: 0, count: batch * length)
        (behaviours, nextBehaviours, values) = (ids, ids, ids)
        labels = [Int32](repeating: -1, count: batch * length)
        times = [Int64](repeating: 0, count: batch * (length + 1))
        lengths = [Int32](repeating: 0, count: batch)
    }

    /// Empties every row and restores the `maxLength` layout (without reallocating).
    func clear() {
        length = maxLength
        ids.removeAll(keepingCapacity: true)
        ids.append(contentsOf: repeatElement(0, count: batch * maxLength))
        behaviours.removeAll(keepingCapacity: true)
        behaviours.append(contentsOf: repeatElement(0, count: batch * maxLength))
        nextBehaviours.removeAll(keepingCapacity: true)
        nextBehaviours.append(contentsOf: repeatElement(0, count: batch * maxLength))
        values.removeAll(keepingCapacity: true)
        values.append(contentsOf: repeatElement(0, count: batch * maxLength))
        labels.removeAll(keepingCapacity: true)
        labels.append(contentsOf: repeatElement(-1, count: batch * maxLength))
        times.removeAll(keepingCapacity: true)
        times.append(contentsOf: repeatElement(0, count: batch * (maxLength + 1)))
        for b in 0..<batch { lengths[b] = 0 }
        labelled.removeAll(keepingCapacity: true)
    }

    /// Shortens every row to the longest placed one (at least 1 position): ids, labels and times move
    /// to the new row stride in place. Returns the new length.
    @discardableResult
    func pack() -> Int {
        let n = packs ? max(1, Int(lengths.max() ?? 0)) : maxLength
        guard n < length else { return length }
        let old = length
        for b in 0..<batch {
            for i in 0..<n {
                (ids[b * n + i], behaviours[b * n + i], labels[b * n + i]) = (ids[b * old + i], behaviours[b * old + i], labels[b * old + i])
                (values[b * n + i], nextBehaviours[b * n + i]) = (values[b * old + i], nextBehaviours[b * old + i])
            }
            for i in 0...n { times[b * (n + 1) + i] = times[b * (old + 1) + i] }
        }
        ids.removeLast(batch * (old - n))
        behaviours.removeLast(batch * (old - n))
        nextBehaviours.removeLast(batch * (old - n))
        values.removeLast(batch * (old - n))
        labels.removeLast(batch * (old - n))
        times.removeLast(batch * (old - n))
        length = n
        return n
    }

    /// Writes the last `length − offset` events of `events` (items, times, behaviours) into row b from
    /// position `offset` (positions before it are left to context tokens); `next` is the time after them
    /// and `nextBehaviour` the behaviour of what follows (the model's id; 0: none).
    func place(_ events: EventSequence, next: Int64? = nil, nextBehaviour: Int16 = 0, row b: Int, offset: Int = 0) {
        let kept = events.items.suffix(length - offset), keptTimes = events.times.suffix(length - offset)
        for (i, id) in kept.enumerated() { ids[b * length + offset + i] = id }
        if behaviourTypes > 0 {
            let start = b * length + offset
            if let eventBehaviours = events.behaviours {
                for (i, behaviour) in eventBehaviours.suffix(length - offset).enumerated() {
                    behaviours[start + i] = BehaviourSettings.encoderId(behaviour, types: behaviourTypes)
                    if i > 0 { nextBehaviours[start + i - 1] = behaviours[start + i] }
                }
            }
            if !kept.isEmpty { nextBehaviours[start + kept.count - 1] = BehaviourSettings.encoderId(nextBehaviour, types: behaviourTypes) }
        }
        if valueBuckets > 0, let eventValues = events.values {
            for (i, value) in eventValues.suffix(length - offset).enumerated() {
                values[b * length + offset + i] = BehaviourSettings.valueId(value, buckets: valueBuckets)
            }
        }
        let t = b * (length + 1) + offset
        for (i, time) in keptTimes.enumerated() { times[t + i] = time }
        let last = next ?? keptTimes.last ?? 0
        for i in kept.count...(length - offset) { times[t + i] = last }
        lengths[b] = Int32(offset + kept.count)
    }

    /// Next-item training pairs: row b reads `items[..<n−1]` and predicts `items[1...]` (most recent
    /// events that fit after `offset`), where the next event is a target. Other positions, and those
    /// past the row's length, keep label −1.
    func placeShifted(_ sequence: EventSequence, row b: Int, offset: Int = 0) {
        let room = length - offset
        let window = sequence.items.suffix(room + 1), windowTimes = sequence.times.suffix(room + 1)
        guard window.count >= 2 else { return }
        place(sequence[window.startIndex..<(window.endIndex - 1)], next: windowTimes.last,
              nextBehaviour: sequence.behaviours?[window.endIndex - 1] ?? 0, row: b, offset: offset)
        for (i, e) in window.indices.dropFirst().enumerated() where sequence.isTarget(e) { labels[b * length + offset + i] = window[e] }
    }

    /// Hides position p behind `token` (BERT4Rec's [MASK]) and makes its item the label there. Its
    /// behaviour and value are hidden too: the [MASK] that scoring appends has none.
    func mask(_ p: Int, with token: Int32) {
        (labels[p], ids[p], behaviours[p], values[p]) = (ids[p], token, 0, 0)
    }

    /// The loss over the labelled positions only, so that padding never costs a row of the output
    /// layer: their rows of `output` are gathered into a compact tensor (reused between steps), `loss`
    /// fills the compact gradient from them and their labels, and the gradient is scattered back into
    /// `outputGradient` (0 elsewhere).
    /// Labelled positions of the last `labelledLoss`: the terms its mean is over.
    private(set) var labelledCount = 0

    func labelledLoss(output: Tensor, outputGradient: Tensor,
                      _ loss: (_ rows: Tensor, _ labels: [Int32], _ dRows: Tensor) -> Double) -> Double {
        labelled.removeAll(keepingCapacity: true)
        for (r, label) in labels.enumerated() where label >= 0 { labelled.append(r) }
        labelledCount = labelled.count
        let d = output.columns
        let rows = scratch.tensor("gathered", [labelled.count, d]), dRows = scratch.tensor("gatheredGradient", [labelled.count, d])
        for (i, r) in labelled.enumerated() { (rows.pointer + i * d).update(from: output.pointer + r * d, count: d) }
        let value = loss(rows, labelled.map { labels[$0] }, dRows)
        outputGradient.zero()
        for (i, r) in labelled.enumerated() { (outputGradient.pointer + r * d).update(from: dRows.pointer + i * d, count: d) }
        return value
    }

    /// Copies each row's last real position of `x` into `users` (one row per sequence).
    func gatherLastPositions(_ x: Tensor, into users: Tensor) {
        lengths.withUnsafeBufferPointer { gatherLastRows(x, batch: batch, lengths: $0, into: users) }
    }
}
