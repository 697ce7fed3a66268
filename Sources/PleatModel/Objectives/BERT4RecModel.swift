import PleatCore
import PleatEncoders
import PleatTensor

/// BERT4Rec: Cloze training (random items replaced by [MASK] and predicted from both sides, plus an
/// instance with only the last item masked); scoring appends [MASK] to the history and reads its logits.
///
/// Departures from the spec (§3.2): the validation item is not appended to the training sequences (it
/// would leak the model-selection target), and masks are redrawn every epoch instead of duplicating the
/// data `dupe_factor` times up front (the same distribution, without the copies). [MASK] is always used
/// (mask_prob 1.0, the ML-1M setting).
final class BERT4RecModel: NextItemModel {
    let kind = ModelKind.bert4rec
    let settings: BERT4RecSettings
    let encoder: BERT4RecEncoder
    let batch: SequenceBatch
    let items: Int
    let batchSize: Int
    var store: ParameterStore { encoder.store }
    private let crossEntropy = SoftmaxCrossEntropy()
    private let users: Tensor
    private let itemDropout: ParameterDropout?
    private var positions: [Int] = []

    init(spec: ModelSpec, batchSize: Int, seed: UInt64, items: Int) {
        settings = spec.bert4rec
        var c = spec.bert4rec.encoder
        (c.items, c.maxLength) = (items, spec.maxLength)
        self.items = items
        self.batchSize = batchSize
        let rows = settings.lastItem == .separateInstance ? 2 * batchSize : batchSize
        encoder = BERT4RecEncoder(config: c, batch: rows, seed: seed, behaviourTypes: spec.behaviour.embeddedTypes,
                                  valueBuckets: spec.behaviour.valueBuckets)
        batch = SequenceBatch(batch: rows, length: spec.maxLength, behaviourTypes: spec.behaviour.embeddedTypes,
                              valueBuckets: spec.behaviour.valueBuckets)
        users = Tensor([rows, c.dimension])
        itemDropout = ParameterDropout.over(encoder.items.table, probability: settings.itemDropout)
    }

    var lossTerms: Int { batch.labelledCount }

    func trainStep(_ sequences: [EventSequence], rng: inout RandomSource) -> Double {
        batch.clear()
        var sampler = rng.split(2)
        let n = batch.length, mask = encoder.maskToken
        for (b, s) in sequences.enumerated() {
            let rows = settings.lastItem == .separateInstance ? [2 * b, 2 * b + 1] : [b]
            for row in rows { batch.place(s, row: row) }
            let length = Int(batch.lengths[rows[0]])
            guard length > 0 else { continue }
            // Cloze: a random subset of positions.
            positions.removeAll(keepingCapacity: true)
            positions.append(contentsOf: 0..<length)
            let count = min(settings.maxPredictions, max(1, Int((Double(length) * settings.maskProbability).rounded())))
            if settings.lastItem == .alwaysMasked { positions.swapAt(0, length - 1) }
            for i in 0..<count {
                if !(i == 0 && settings.lastItem == .alwaysMasked) { positions.swapAt(i, i + sampler.below(length - i)) }
                batch.mask(rows[0] * n + positions[i], with: mask)
            }
            if settings.lastItem == .separateInstance { batch.mask(rows[1] * n + length - 1, with: mask) }
        }
        var dropoutRng: RandomSource? = rng.split(1)
        var tableRng: RandomSource? = rng.split(4)
        itemDropout?.apply(encoder.items.table, rng: &tableRng)
        defer { itemDropout?.restore(encoder.items.table) }
        encoder.setLength(batch.pack())
        encoder.fields = batch.fields
        encoder.forward(batch.ids, rng: &dropoutRng)
        let loss = batch.labelledLoss(output: encoder.output, outputGradient: encoder.outputGradient) { hidden, labels, dHidden in
            crossEntropy.lossAndGradient(hidden: hidden, table: encoder.items.table, bias: encoder.outputBias, labels: labels, dHidden: dHidden)
        }
        encoder.backward()
        return loss
    }

    /// History (the most recent max_length − 1 events) followed by [MASK]; the mask position's logits
    /// over the items (not over [MASK] itself).
    func itemScoring(for queries: [ScoringQuery]) -> ItemScoring {
        batch.clear()
        let n = batch.length
        for (b, q) in queries.enumerated() {
            let h = q.history
            batch.place(h[max(h.items.startIndex, h.items.endIndex - (n - 1))..<h.items.endIndex], row: b)
            batch.ids[b * n + Int(batch.lengths[b])] = encoder.maskToken
            batch.lengths[b] += 1
        }
        var noDropout: RandomSource? = nil
        encoder.setLength(batch.pack())
        encoder.fields = batch.fields
        encoder.forward(batch.ids, rng: &noDropout)
        batch.gatherLastPositions(encoder.output, into: users)
        return ItemScoring(users: users, count: queries.count, table: encoder.items.table.value.pointer,
                           bias: encoder.outputBias.value.pointer, items: items)
    }
}
