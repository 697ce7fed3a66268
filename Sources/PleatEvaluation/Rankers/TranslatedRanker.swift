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
            var kept: (items: [Int32], times: [Int64], behaviours: [Int16]) = ([], [], [])
            for i in h.items.indices where toModel[Int(h.items[i])] > 0 {
                kept.items.append(toModel[Int(h.items[i])]); kept.times.append(h.times[i])
                if let behaviours = h.behaviours { kept.behaviours.append(behaviours[i]) }
            }
            return ScoringQuery(history: EventSequence(items: kept.items[...], times: kept.times[...],
                                                       behaviours: h.behaviours == nil ? nil : kept.behaviours[...]), time: query.time)
        }
        model.scores(translated, into: modelScores)
        for r in queries.indices {
            let out = scores.pointer + r * scores.columns, source = modelScores.pointer + r * modelScores.columns
            out.update(repeating: -.infinity, count: scores.columns)
            for (j, target) in fromModel.enumerated() where j > 0 && target > 0 { out[Int(target)] = source[j] }
        }
    }
}
