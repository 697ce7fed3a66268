import PleatCore
import PleatModels
import PleatTensor

/// HSTU (research variant): L2-normalised outputs trained with sampled softmax against L2-normalised
/// item embeddings at temperature τ; scoring is cosine similarity with every item. Timestamps come from
/// the data: each position's time bias reads the gap to the event it predicts (at scoring time, to the
/// moment of the query).
final class HSTUModel: NextItemModel {
    let kind = ModelKind.hstu
    let settings: HSTUSettings
    let encoder: HSTUEncoder
    let batch: SequenceBatch
    let items: Int
    var store: ParameterStore { encoder.store }
    var batchSize: Int { encoder.batch }
    private let loss: SampledSoftmax
    private let users: Tensor, normalizedItems: Tensor, itemNorms: Tensor
    private var negatives: [Int32]

    init(config: TrainingConfig, items: Int) {
        settings = config.hstu
        var c = config.hstu.encoder
        (c.items, c.maxLength) = (items, config.maxLength)
        self.items = items
        encoder = HSTUEncoder(config: c, batch: config.batchSize, seed: config.seed)
        batch = SequenceBatch(batch: config.batchSize, length: config.maxLength)
        loss = SampledSoftmax(temperature: settings.temperature, normalize: true, maskCollisions: true)
        users = Tensor([config.batchSize, c.dimension])
        normalizedItems = Tensor([items + 1, c.dimension])
        itemNorms = Tensor([items + 1])
        negatives = [Int32](repeating: 1, count: settings.negatives)
    }

    func trainStep(_ sequences: [EventSequence], rng: inout RandomSource) -> Double {
        batch.clear()
        for (b, s) in sequences.enumerated() { batch.placeShifted(s, row: b) }
        var dropoutRng: RandomSource? = rng.split(1)
        encoder.forward(batch.ids, timestamps: batch.times, rng: &dropoutRng)
        var sampler = rng.split(2)
        for j in negatives.indices { negatives[j] = Int32(1 + sampler.below(items)) }
        let (query, labels) = batch.gatherLabelled(encoder.output)
        let dQuery = batch.gatheredGradient(columns: query.columns)
        let value = loss.lossAndGradient(query: query, table: encoder.items.table, labels: labels, negatives: negatives, dQuery: dQuery)
        batch.scatterLabelled(dQuery, into: encoder.outputGradient)
        encoder.backward()
        return value
    }

    func scores(_ queries: [ScoringQuery], into scores: Tensor) {
        batch.clear()
        for (b, q) in queries.enumerated() { batch.place(q.history.items, times: q.history.times, next: q.time, row: b) }
        var noDropout: RandomSource? = nil
        encoder.forward(batch.ids, timestamps: batch.times, rng: &noDropout)
        batch.gatherPositions(encoder.output, count: queries.count, into: users) { max(self.batch.lengths[$0] - 1, 0) }
        L2Normalize.forward(encoder.items.table.value, into: normalizedItems, norms: itemNorms)
        ItemScoring.score(users: users, count: queries.count, table: normalizedItems.pointer, into: scores)
    }
}
