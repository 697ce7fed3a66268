import Foundation
import PleatCore
import PleatEncoders
import PleatHistories
import PleatTensor

/// SASRec: the causal encoder predicts the next item at every position, scored against the tied item
/// table. Loss per `SASRecSettings.Loss`. Departure from the spec: sequences are left-aligned (padding at
/// the end), so causal attention never reaches padding and no key mask is needed; positions count from
/// the oldest kept event. With `fold.key` set, the history before the window is folded (`Backbone`).
final class SASRecModel: NextItemModel {
    let kind = ModelKind.sasrec
    let settings: SASRecSettings
    let backbone: Backbone
    let items: Int
    var store: ParameterStore { backbone.store }
    var batchSize: Int { backbone.batch.batch }
    private var table: Parameter { backbone.items.table }
    private let crossEntropy = SoftmaxCrossEntropy()
    private let sampledSoftmax: SampledSoftmax
    private let users: Tensor
    private let itemDropout: ParameterDropout?
    /// With `repeat`: the user's own items, masked out of the loss here and scored by the head.
    private let repeatHead: RepeatHead?
    let repeatShift: RepeatShift?
    /// τ: the temperature of the catalogue's logits in the loss, which the head's scores are put on.
    private let catalogueTemperature: Float
    private var negativeIds: [Int32] = [], sampledScores: [Float] = [], sampledGradient: [Float] = [], ones: [Float] = []

    init(spec: ModelSpec, batchSize: Int, seed: UInt64, items: Int, foldKeys: FoldKeys? = nil) {
        settings = spec.sasrec
        let temperature: Float = settings.loss == .sampledSoftmax ? settings.temperature : 1
        catalogueTemperature = temperature
        var c = spec.sasrec.encoder
        (c.items, c.maxLength) = (items, spec.maxLength * spec.behaviour.tokensPerEvent)
        self.items = items
        sampledSoftmax = SampledSoftmax(temperature: settings.temperature, normalize: false, maskCollisions: true)
        backbone = Backbone(spec: spec, batchSize: batchSize, foldKeys: foldKeys,
                            plain: { SASRecEncoder(config: c, batch: batchSize, seed: seed, behaviourTypes: spec.behaviour.embeddedTypes,
                                                    valueBuckets: spec.behaviour.valueBuckets) },
                            folded: { FoldedEncoder(sasrec: c, shape: $0, batch: batchSize, seed: seed, behaviourTypes: spec.behaviour.embeddedTypes,
                                                     valueBuckets: spec.behaviour.valueBuckets) })
        users = Tensor([batchSize, c.dimension])
        itemDropout = ParameterDropout.over(backbone.items.table, probability: settings.itemDropout)
        repeatHead = settings.repeat ? RepeatHead(store: backbone.store, dimension: c.dimension, items: items, maxLength: backbone.batch.maxLength,
                                                   catalogue: settings.repeatCatalogue, behaviourTypes: spec.behaviour.embeddedTypes) : nil
        repeatShift = repeatHead.map { RepeatShift(parameter: $0.gateShift, scale: temperature, ownItems: $0.ownItems) }
    }

    var lossTerms: Int { backbone.batch.labelledCount }

    func trainStep(_ sequences: [EventSequence], rng: inout RandomSource) -> Double {
        backbone.placeTraining(sequences, rng: &rng)
        var dropoutRng: RandomSource? = rng.split(1)
        var tableRng: RandomSource? = rng.split(4)
        itemDropout?.apply(table, rng: &tableRng)
        defer { itemDropout?.restore(table) }
        backbone.forward(rng: &dropoutRng)
        if let repeatHead { repeatHead.prepareTraining(backbone.batch) }
        let loss = backbone.batch.labelledLoss(output: backbone.output, outputGradient: backbone.outputGradient) { hidden, targets, dHidden in
            let labels = repeatHead?.catalogueLabels(hidden: hidden, labels: targets) ?? targets
            let loss = switch settings.loss.resolved(items: items) {
            case .ce, .auto: crossEntropy.lossAndGradient(hidden: hidden, table: table, bias: nil, labels: labels, overrides: repeatHead?.catalogueOverrides,
                                                          dHidden: dHidden)
            case .bce, .gbce: sampledLoss(hidden, labels, dHidden, rng: rng)
            case .sampledSoftmax: sampledSoftmaxLoss(hidden, labels, dHidden, rng: rng)
            }
            let positions = labels.count { $0 >= 0 }
            return loss + (repeatHead?.lossAndGradient(hidden: hidden, labels: targets, normalizer: positions, dHidden: dHidden) ?? 0)
        }
        let behaviourLoss = backbone.behaviourLoss()
        backbone.backward()
        return loss + behaviourLoss
    }

    /// BCE (one negative) or gBCE (`negatives`), negatives drawn uniformly, never the positive.
    private func sampledLoss(_ hidden: Tensor, _ labels: [Int32], _ dHidden: Tensor, rng: RandomSource) -> Double {
        let k = settings.loss == .bce ? 1 : settings.negatives
        var sampler = rng.split(2)
        negativeIds.removeAll(keepingCapacity: true)
        for label in labels {
            negativeIds.append(label)
            for _ in 0..<k {
                var id: Int32
                repeat { id = Int32(1 + sampler.below(items)) } while id == label && items > 1
                negativeIds.append(id)
            }
        }
        let bce = BinaryCrossEntropy(
            beta: settings.loss == .gbce ? BinaryCrossEntropy.gbceBeta(negatives: k, items: items, t: settings.gbceT) : 1,
            meanOverTerms: settings.loss == .gbce)
        if ones.count != labels.count { ones = [Float](repeating: 1, count: labels.count) }
        ItemScores.forward(hidden: hidden, table: table, ids: negativeIds, columns: k + 1, into: &sampledScores)
        let loss = bce.lossAndGradient(scores: sampledScores, columns: k + 1, weights: ones, gradient: &sampledGradient)
        dHidden.zero()
        ItemScores.backward(hidden: hidden, table: table, ids: negativeIds, columns: k + 1,
                            dScores: sampledGradient, dHidden: dHidden)
        return loss
    }

    /// Softmax over each position's positive and `negatives` items shared by the batch (accidental hits
    /// masked). Uniform negatives are drawn over the catalogue; in-batch ones are the labels of randomly
    /// chosen positions of this batch, i.e. drawn from the batch's label distribution, whose probabilities
    /// are therefore known exactly for the logQ correction: expected count of item j among K negatives =
    /// K·(share of in-batch draws·c_j/R + share of uniform draws/items), c_j = positions labelled j, R = all.
    private func sampledSoftmaxLoss(_ hidden: Tensor, _ labels: [Int32], _ dHidden: Tensor, rng: RandomSource) -> Double {
        let k = settings.negatives
        var sampler = rng.split(2)
        if settings.sampling == .uniformPerPosition { return perPositionSoftmaxLoss(hidden, labels, dHidden, sampler: &sampler) }
        let inBatchDraws = switch settings.sampling { case .uniform, .uniformPerPosition: 0; case .inBatch: k; case .mixed: k / 2 }
        negativeIds.removeAll(keepingCapacity: true)
        for _ in 0..<inBatchDraws { negativeIds.append(labels[sampler.below(labels.count)]) }
        for _ in inBatchDraws..<k { negativeIds.append(Int32(1 + sampler.below(items))) }
        var negativeOffsets: [Float]? = nil, positiveOffsets: [Float]? = nil
        if settings.logQCorrection && inBatchDraws > 0 {
            var labelCounts: [Int32: Int] = [:]
            for label in labels { labelCounts[label, default: 0] += 1 }
            let (inBatch, uniform) = (Double(inBatchDraws), Double(k - inBatchDraws))
            let logExpected = { (item: Int32) -> Float in
                Float(log(inBatch * Double(labelCounts[item] ?? 0) / Double(labels.count) + uniform / Double(self.items)))
            }
            negativeOffsets = negativeIds.map(logExpected)
            positiveOffsets = labels.map(logExpected)
        }
        return sampledSoftmax.lossAndGradient(query: hidden, table: table, labels: labels, negatives: negativeIds,
                                              negativeOffsets: negativeOffsets, positiveOffsets: positiveOffsets, dQuery: dHidden)
    }

    /// Softmax over each position's positive and `negatives` uniform draws of its own (collisions
    /// masked; a uniform sampler needs no logQ correction). With the repeat head, drawn own items are
    /// masked, and a position whose target is one (label −1) stands as padding (id 0: no loss).
    private func perPositionSoftmaxLoss(_ hidden: Tensor, _ labels: [Int32], _ dHidden: Tensor, sampler: inout RandomSource) -> Double {
        let columns = settings.negatives + 1
        negativeIds.removeAll(keepingCapacity: true)
        for label in labels {
            negativeIds.append(max(label, 0))
            for _ in 1..<columns { negativeIds.append(Int32(1 + sampler.below(items))) }
        }
        ItemScores.forward(hidden: hidden, table: table, ids: negativeIds, columns: columns, into: &sampledScores)
        repeatHead?.catalogueOverrides?.write(intoSampled: &sampledScores, ids: negativeIds, columns: columns)
        let loss = sampledSoftmax.lossAndGradient(scores: sampledScores, ids: negativeIds, columns: columns, gradient: &sampledGradient)
        dHidden.zero()
        ItemScores.backward(hidden: hidden, table: table, ids: negativeIds, columns: columns, dScores: sampledGradient, dHidden: dHidden)
        return loss
    }

    func itemScoring(for queries: [ScoringQuery]) -> ItemScoring {
        backbone.placeQueries(queries)
        backbone.encodeLastPositions(into: users)
        var scoring = ItemScoring(users: users, count: queries.count, table: table.value.pointer, bias: nil, items: items)
        if let repeatHead {
            repeatHead.prepareQueries(backbone.batch, count: queries.count)
            repeatHead.prepareScoring(&scoring, temperature: catalogueTemperature)
        }
        return scoring
    }
}
