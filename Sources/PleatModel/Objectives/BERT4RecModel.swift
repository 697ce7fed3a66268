import PleatCore
import PleatEncoders
import PleatTensor

/// BERT4Rec: Cloze training (random items replaced by [MASK] and predicted from both sides, plus an
/// instance with only the last item masked, or the last of a random prefix: `bert4rec.last_item`); scoring appends [MASK] to the history and reads its logits.
/// With `fold.key` set, the events older than the window are folded (`FoldedEncoder`): the fold tokens
/// are a bidirectional prefix of the window, which the masks fall in; training ends each user's window
/// at a random event among the last `window_end_spread` of the history, as the causal models do.
///
/// Departures from the spec (§3.2): the validation item is not appended to the training sequences (it
/// would leak the model-selection target), and masks are redrawn every epoch instead of duplicating the
/// data `dupe_factor` times up front (the same distribution, without the copies). [MASK] is always used
/// (mask_prob 1.0, the ML-1M setting).
final class BERT4RecModel: NextItemModel {
    let kind = ModelKind.bert4rec
    let settings: BERT4RecSettings
    /// The window encoder: the item table, [MASK] and the output bias (the folded encoder's `main`).
    let encoder: BERT4RecEncoder
    /// With folding, the folded encoder around `encoder` and what builds its fold inputs.
    let folding: (encoder: FoldedEncoder, builder: FoldBuilder)?
    let window: Int, windowEndSpread: Double
    let batch: SequenceBatch
    let items: Int
    let batchSize: Int
    var store: ParameterStore { encoder.store }
    private let crossEntropy = SoftmaxCrossEntropy()
    private let users: Tensor
    private let itemDropout: ParameterDropout?
    private var positions: [Int] = []

    init(spec: ModelSpec, batchSize: Int, seed: UInt64, items: Int, foldKeys: FoldKeys? = nil) {
        settings = spec.bert4rec
        var c = spec.bert4rec.encoder
        (c.items, c.maxLength) = (items, spec.maxLength)
        self.items = items
        self.batchSize = batchSize
        (window, windowEndSpread) = (spec.maxLength, spec.fold.windowEndSpread)
        let rows = settings.lastItem.addsInstance ? 2 * batchSize : batchSize
        let (types, buckets) = (spec.behaviour.embeddedTypes, spec.behaviour.valueBuckets)
        if let foldKeys, spec.fold.key != .none {
            var shape = FoldedEncoder.Shape()
            (shape.groups, shape.groupLength, shape.foldBlocks, shape.keys) = (spec.fold.groups, spec.fold.groupLength, spec.fold.foldBlocks, foldKeys.count)
            let folded = FoldedEncoder(bert4rec: c, shape: shape, batch: rows, seed: seed, behaviourTypes: types, valueBuckets: buckets)
            encoder = folded.main as! BERT4RecEncoder  // swiftlint:disable:this force_cast
            folding = (folded, FoldBuilder(keys: foldKeys, shape: shape, batch: rows, window: spec.maxLength, behaviourTypes: types, valueBuckets: buckets))
            batch = SequenceBatch(batch: rows, length: shape.groups + spec.maxLength, behaviourTypes: types, valueBuckets: buckets)
        } else {
            encoder = BERT4RecEncoder(config: c, batch: rows, seed: seed, behaviourTypes: types, valueBuckets: buckets)
            folding = nil
            batch = SequenceBatch(batch: rows, length: spec.maxLength, behaviourTypes: types, valueBuckets: buckets)
        }
        users = Tensor([rows, c.dimension])
        itemDropout = ParameterDropout.over(encoder.items.table, probability: settings.itemDropout)
    }

    var lossTerms: Int { batch.labelledCount }

    func trainStep(_ sequences: [EventSequence], rng: inout RandomSource) -> Double {
        batch.clear()
        folding?.builder.clear()
        var sampler = rng.split(2), windows = rng.split(3)
        let n = batch.length, mask = encoder.maskToken
        for (b, s) in sequences.enumerated() {
            let rows = settings.lastItem.addsInstance ? [2 * b, 2 * b + 1] : [b]
            let (kept, offset) = placeWindow(s, rows: rows, rng: &windows)
            batch.place(kept, row: rows[0], offset: offset)
            if settings.lastItem.addsInstance { batch.place(nextItemInstance(kept, offset: offset, rng: &sampler), row: rows[1], offset: offset) }
            let length = Int(batch.lengths[rows[0]]) - offset
            guard length > 0 else { continue }
            // Cloze: a random subset of the window's positions.
            positions.removeAll(keepingCapacity: true)
            positions.append(contentsOf: 0..<length)
            let count = min(settings.maxPredictions, max(1, Int((Double(length) * settings.maskProbability).rounded())))
            if settings.lastItem == .alwaysMasked { positions.swapAt(0, length - 1) }
            for i in 0..<count {
                if !(i == 0 && settings.lastItem == .alwaysMasked) { positions.swapAt(i, i + sampler.below(length - i)) }
                batch.mask(rows[0] * n + offset + positions[i], with: mask)
            }
            if settings.lastItem.addsInstance { batch.mask(rows[1] * n + Int(batch.lengths[rows[1]]) - 1, with: mask) }
        }
        var dropoutRng: RandomSource? = rng.split(1)
        var tableRng: RandomSource? = rng.split(4)
        itemDropout?.apply(encoder.items.table, rng: &tableRng)
        defer { itemDropout?.restore(encoder.items.table) }
        let output = forward(rng: &dropoutRng)
        let loss = batch.labelledLoss(output: output.output, outputGradient: output.outputGradient) { hidden, labels, dHidden in
            crossEntropy.lossAndGradient(hidden: hidden, table: encoder.items.table, bias: encoder.outputBias, labels: labels, dHidden: dHidden)
        }
        if let folding { folding.encoder.backward() } else { encoder.backward() }
        return loss
    }

    /// The events of the next-item instance (its last is masked): the window's events, or under
    /// `random-prefix` those up to a random event of the window (at least the second).
    func nextItemInstance(_ kept: EventSequence, offset: Int, rng: inout RandomSource) -> EventSequence {
        guard settings.lastItem == .randomPrefix else { return kept }
        let count = kept.items.count, start = kept.items.startIndex
        // `place` keeps the last `batch.length - offset` events: the prefix ends among them.
        let lowest = min(count, max(2, count - (batch.length - offset) + 1))
        let end = lowest + Self.draw(below: count - lowest + 1, &rng)
        return kept[start..<(start + end)]
    }

    /// A draw in 0..<n that takes no randomness when there is one choice.
    private static func draw(below n: Int, _ rng: inout RandomSource) -> Int { n > 1 ? rng.below(n) : 0 }

    /// The events of `s` a training window holds, and the positions its fold tokens take before them
    /// in each of `rows` (0 unfolded: the whole sequence, which `place` cuts to the window).
    private func placeWindow(_ s: EventSequence, rows: [Int], rng: inout RandomSource) -> (EventSequence, Int) {
        guard let builder = folding?.builder else { return (s, 0) }
        let count = s.items.count, start = s.items.startIndex
        var end = count
        if count > window {
            let lowest = max(window, Int((Double(count) * (1 - windowEndSpread)).rounded(.up)))
            end = lowest + rng.below(count - lowest + 1)
        }
        let first = max(0, end - window)
        var folds = 0
        for row in rows { folds = builder.fold(s[start..<(start + first)], windowStart: s.times[start + first], row: row, batch: batch) }
        return (s[(start + first)..<(start + end)], folds)
    }

    /// Encodes the placed batch: the plain encoder at the batch's longest row, the folded one at its shape.
    private func forward(rng: inout RandomSource?) -> (output: Tensor, outputGradient: Tensor) {
        guard let folding else {
            encoder.setLength(batch.pack())
            encoder.fields = batch.fields
            encoder.forward(batch.ids, rng: &rng)
            return (encoder.output, encoder.outputGradient)
        }
        folding.builder.finish(batch)
        folding.encoder.forward(folding.builder.inputs, rng: &rng)
        return (folding.encoder.output, folding.encoder.outputGradient)
    }

    /// History (the most recent max_length − 1 events) followed by [MASK]; the mask position's logits
    /// over the items (not over [MASK] itself).
    func itemScoring(for queries: [ScoringQuery]) -> ItemScoring {
        batch.clear()
        folding?.builder.clear()
        let n = batch.length
        for (b, q) in queries.enumerated() {
            let h = q.history, start = h.items.startIndex, first = max(start, h.items.endIndex - (window - 1))
            var offset = 0
            if let builder = folding?.builder {
                let windowStart = first < h.items.endIndex ? h.times[first] : q.time
                offset = builder.fold(h[start..<first], windowStart: windowStart, row: b, batch: batch)
            }
            batch.place(h[first..<h.items.endIndex], row: b, offset: offset)
            batch.ids[b * n + Int(batch.lengths[b])] = encoder.maskToken
            batch.lengths[b] += 1
        }
        var noDropout: RandomSource? = nil
        let output = forward(rng: &noDropout).output
        batch.gatherLastPositions(output, into: users)
        return ItemScoring(users: users, count: queries.count, table: encoder.items.table.value.pointer,
                           bias: encoder.outputBias.value.pointer, items: items)
    }
}
