import Foundation
import PleatCore
import PleatEncoders
import PleatHistories
import PleatTensor

/// HSTU (research variant): L2-normalised outputs trained with sampled softmax against L2-normalised
/// item embeddings at temperature τ; scoring is cosine similarity with every item. Timestamps come from
/// the data: each position's time bias reads the gap to the event it predicts (at scoring time, to the
/// moment of the query).
///
/// With `fold.key` set, the history before the window is folded (`Backbone`, `FoldedEncoder`).
final class HSTUModel: NextItemModel {
    let kind = ModelKind.hstu
    let settings: HSTUSettings
    let backbone: Backbone
    let items: Int
    var store: ParameterStore { backbone.store }
    var batchSize: Int { backbone.batch.batch }
    private let loss: SampledSoftmax
    private let users: Tensor, normalizedItems: Tensor, itemNorms: Tensor
    private var negatives: [Int32]
    /// With `repeat`: the user's own items, masked out of the loss here and scored by the head.
    private let repeatHead: RepeatHead?
    let repeatShift: RepeatShift?
    /// τ: the temperature of the catalogue's logits in the loss, which the head's scores are put on.
    private var catalogueTemperature: Float { settings.temperature }

    init(spec: ModelSpec, batchSize: Int, seed: UInt64, items: Int, foldKeys: FoldKeys? = nil) {
        settings = spec.hstu
        var c = spec.hstu.encoder
        (c.items, c.maxLength) = (items, spec.maxLength * spec.behaviour.tokensPerEvent)
        self.items = items
        backbone = Backbone(spec: spec, batchSize: batchSize, foldKeys: foldKeys,
                            plain: { HSTUEncoder(config: c, batch: batchSize, seed: seed, behaviourTypes: spec.behaviour.embeddedTypes,
                                                    valueBuckets: spec.behaviour.valueBuckets) },
                            folded: { FoldedEncoder(hstu: c, shape: $0, batch: batchSize, seed: seed, behaviourTypes: spec.behaviour.embeddedTypes,
                                                     valueBuckets: spec.behaviour.valueBuckets) })
        loss = SampledSoftmax(temperature: settings.temperature, normalize: true, maskCollisions: true)
        users = Tensor([batchSize, c.dimension])
        normalizedItems = Tensor([items + 1, c.dimension])
        itemNorms = Tensor([items + 1])
        negatives = [Int32](repeating: 1, count: settings.negatives)
        repeatHead = settings.repeat ? RepeatHead(store: backbone.store, dimension: c.dimension, items: items, maxLength: backbone.batch.maxLength,
                                                   catalogue: settings.repeatCatalogue, behaviourTypes: spec.behaviour.embeddedTypes) : nil
        let temperature = settings.temperature
        repeatShift = repeatHead.map { RepeatShift(parameter: $0.gateShift, scale: temperature, ownItems: $0.ownItems) }
    }

    var lossTerms: Int { backbone.batch.labelledCount }

    func trainStep(_ sequences: [EventSequence], rng: inout RandomSource) -> Double {
        backbone.placeTraining(sequences, rng: &rng)
        var dropoutRng: RandomSource? = rng.split(1)
        backbone.forward(rng: &dropoutRng)
        var sampler = rng.split(2)
        for j in negatives.indices { negatives[j] = Int32(1 + sampler.below(items)) }
        let table = backbone.items.table
        if let repeatHead { repeatHead.prepareTraining(backbone.batch) }
        let value = backbone.batch.labelledLoss(output: backbone.output, outputGradient: backbone.outputGradient) { query, targets, dQuery in
            let labels = repeatHead?.catalogueLabels(hidden: query, labels: targets) ?? targets
            let value = loss.lossAndGradient(query: query, table: table, labels: labels, negatives: negatives, overrides: repeatHead?.catalogueOverrides, dQuery: dQuery)
            let positions = labels.count { $0 >= 0 }
            return value + (repeatHead?.lossAndGradient(hidden: query, labels: targets, normalizer: positions, dHidden: dQuery) ?? 0)
        }
        let behaviourLoss = backbone.behaviourLoss()
        backbone.backward()
        return value + behaviourLoss
    }

    func itemScoring(for queries: [ScoringQuery]) -> ItemScoring {
        backbone.placeQueries(queries)
        backbone.encodeLastPositions(into: users)
        L2Normalize.forward(backbone.items.table.value, into: normalizedItems, norms: itemNorms)
        var scoring = ItemScoring(users: users, count: queries.count, table: normalizedItems.pointer, bias: nil, items: items)
        if let repeatHead {
            repeatHead.prepareQueries(backbone.batch, count: queries.count)
            repeatHead.prepareScoring(&scoring, temperature: catalogueTemperature)
        }
        return scoring
    }
}
