import Foundation
import PleatCore
import PleatModels
import PleatTensor

/// HSTU (research variant): L2-normalised outputs trained with sampled softmax against L2-normalised
/// item embeddings at temperature τ; scoring is cosine similarity with every item. Timestamps come from
/// the data: each position's time bias reads the gap to the event it predicts (at scoring time, to the
/// moment of the query).
///
/// With `fold.key` set, the history before the window is folded (`FoldedHSTUEncoder`): training ends
/// each user's window at a random event among the last `window_end_spread` of the history, so that the
/// folds' contents vary; scoring ends it at the last event.
final class HSTUModel: NextItemModel {
    enum Backbone {
        case plain(HSTUEncoder)
        case folded(FoldedHSTUEncoder, FoldBuilder)
    }

    let kind = ModelKind.hstu
    let settings: HSTUSettings
    let backbone: Backbone
    let batch: SequenceBatch
    let items: Int
    let window: Int, windowEndSpread: Double
    let store: ParameterStore
    let table: Parameter
    let output: Tensor, outputGradient: Tensor
    var batchSize: Int { batch.batch }
    private let loss: SampledSoftmax
    private let users: Tensor, normalizedItems: Tensor, itemNorms: Tensor
    private var negatives: [Int32]

    init(config: TrainingConfig, items: Int, foldKeys: FoldKeys? = nil) {
        settings = config.hstu
        var c = config.hstu.encoder
        (c.items, c.maxLength) = (items, config.maxLength)
        self.items = items
        (window, windowEndSpread) = (config.maxLength, config.fold.windowEndSpread)
        if let foldKeys, config.fold.key != .none {
            var shape = FoldedHSTUEncoder.Shape()
            (shape.groups, shape.groupLength, shape.foldBlocks, shape.keys) = (config.fold.groups, config.fold.groupLength, config.fold.foldBlocks, foldKeys.count)
            let encoder = FoldedHSTUEncoder(config: c, shape: shape, batch: config.batchSize, seed: config.seed)
            backbone = .folded(encoder, FoldBuilder(keys: foldKeys, shape: shape, batch: config.batchSize, window: config.maxLength))
            batch = SequenceBatch(batch: config.batchSize, length: shape.groups + config.maxLength)
            (store, table, output, outputGradient) = (encoder.store, encoder.items.table, encoder.output, encoder.outputGradient)
        } else {
            let encoder = HSTUEncoder(config: c, batch: config.batchSize, seed: config.seed)
            backbone = .plain(encoder)
            batch = SequenceBatch(batch: config.batchSize, length: config.maxLength)
            (store, table, output, outputGradient) = (encoder.store, encoder.items.table, encoder.output, encoder.outputGradient)
        }
        loss = SampledSoftmax(temperature: settings.temperature, normalize: true, maskCollisions: true)
        users = Tensor([config.batchSize, c.dimension])
        normalizedItems = Tensor([items + 1, c.dimension])
        itemNorms = Tensor([items + 1])
        negatives = [Int32](repeating: 1, count: settings.negatives)
    }

    func trainStep(_ sequences: [EventSequence], rng: inout RandomSource) -> Double {
        batch.clear()
        var windows = rng.split(3)
        switch backbone {
        case .plain:
            for (b, s) in sequences.enumerated() { batch.placeShifted(s, row: b) }
        case .folded(_, let folder):
            folder.clear()
            for (b, s) in sequences.enumerated() {
                let n = s.items.count, start = s.items.startIndex
                var end = n
                if n > window + 1 {
                    let lowest = max(window + 1, Int((Double(n) * (1 - windowEndSpread)).rounded(.up)))
                    end = lowest + windows.below(n - lowest + 1)
                }
                let first = max(0, end - window - 1)
                let folds = folder.fold(s.items[start..<(start + first)], s.times[start..<(start + first)],
                                        windowStart: s.times[start + first], row: b, batch: batch)
                batch.placeShifted(EventSequence(items: s.items[(start + first)..<(start + end)], times: s.times[(start + first)..<(start + end)]),
                                   row: b, offset: folds)
            }
        }
        var dropoutRng: RandomSource? = rng.split(1)
        forward(rng: &dropoutRng)
        var sampler = rng.split(2)
        for j in negatives.indices { negatives[j] = Int32(1 + sampler.below(items)) }
        let value = batch.labelledLoss(output: output, outputGradient: outputGradient) { query, labels, dQuery in
            loss.lossAndGradient(query: query, table: table, labels: labels, negatives: negatives, dQuery: dQuery)
        }
        switch backbone {
        case .plain(let encoder): encoder.backward()
        case .folded(let encoder, _): encoder.backward()
        }
        return value
    }

    func scores(_ queries: [ScoringQuery], into scores: Tensor) {
        batch.clear()
        switch backbone {
        case .plain:
            for (b, q) in queries.enumerated() { batch.place(q.history.items, times: q.history.times, next: q.time, row: b) }
        case .folded(_, let folder):
            folder.clear()
            for (b, q) in queries.enumerated() {
                let h = q.history, start = h.items.startIndex, first = max(0, h.items.count - window)
                let windowStart = first < h.items.count ? h.times[start + first] : q.time
                let folds = folder.fold(h.items[start..<(start + first)], h.times[start..<(start + first)],
                                        windowStart: windowStart, row: b, batch: batch)
                batch.place(h.items[(start + first)...], times: h.times[(start + first)...], next: q.time, row: b, offset: folds)
            }
        }
        var noDropout: RandomSource? = nil
        forward(rng: &noDropout)
        batch.gatherLastPositions(output, count: queries.count, into: users)
        L2Normalize.forward(table.value, into: normalizedItems, norms: itemNorms)
        ItemScoring.score(users: users, count: queries.count, table: normalizedItems.pointer, into: scores)
    }

    private func forward(rng: inout RandomSource?) {
        switch backbone {
        case .plain(let encoder):
            encoder.forward(batch.ids, timestamps: batch.times, rng: &rng)
        case .folded(let encoder, let folder):
            folder.finish(batch)
            encoder.forward(folder.inputs, rng: &rng)
        }
    }
}
