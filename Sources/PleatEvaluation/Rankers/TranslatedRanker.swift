import PleatTensor
import PleatModel
import PleatHistories

/// A trained model evaluated on a split whose vocabulary differs from its own (e.g. an older model on
/// newer data): histories are mapped into the model's indices (unknown items dropped) and its scores
/// back into the split's; items the model does not know score −∞, so they never rank ahead.
final class TranslatedRanker: ItemRanker {
    let items: Int
    var batchSize: Int { model.batchSize }
    private let model: any ItemRanker
    private let toModel: [Int32]   // split index → model index, or -1
    private let fromModel: [Int32] // model index → split index, or -1
    private let modelScores: Tensor

    init(model: any ItemRanker, modelDatabaseIds: [Int32], splitVocabulary: ItemVocabulary) {
        self.model = model
        items = splitVocabulary.count
        let modelIndex = ItemVocabulary(databaseIds: modelDatabaseIds)
        toModel = splitVocabulary.databaseIds.enumerated().map { i, id in i == 0 ? 0 : modelIndex.modelIndex(of: id) ?? -1 }
        fromModel = modelDatabaseIds.enumerated().map { i, id in i == 0 ? 0 : splitVocabulary.modelIndex(of: id) ?? -1 }
        modelScores = Tensor([model.batchSize, model.items + 1])
    }

    func scores(_ queries: [ScoringQuery], into scores: Tensor) {
        let translated = queries.map { query in
            let h = query.history
            let known = h.items.indices.filter { toModel[Int(h.items[$0])] > 0 }
            let items = known.map { toModel[Int(h.items[$0])] }, times = known.map { h.times[$0] }
            return ScoringQuery(history: EventSequence(items: items[...], times: times[...],
                                                       behaviours: h.behaviours.map { b in ArraySlice(known.map { b[$0] }) },
                                                       values: h.values.map { v in ArraySlice(known.map { v[$0] }) }), time: query.time,
                                event: query.event)
        }
        model.scores(translated, into: modelScores)
        for r in queries.indices {
            let out = scores.pointer + r * scores.columns, source = modelScores.pointer + r * modelScores.columns
            out.update(repeating: -.infinity, count: scores.columns)
            for (j, target) in fromModel.enumerated() where j > 0 && target > 0 { out[Int(target)] = source[j] }
        }
    }
}
