import PleatModel
import PleatTensor

/// A model ranking histories whose behaviours are a database's event type ids, where the model reads its
/// own (`BehaviourSettings.modelIds`: the same names may have other ids in another database, or after a
/// fresh ingest). Items are the model's indices already.
final class BehaviourMappedRanker: ItemRanker {
    private let model: any ItemRanker
    /// The model's behaviour id of each database id (0: a type the model does not know).
    private let index: [Int16]
    var batchSize: Int { model.batchSize }
    var items: Int { model.items }

    init(model: any ItemRanker, index: [Int16]) {
        (self.model, self.index) = (model, index)
    }

    /// Whether `index` maps every id to itself, so that the model can read the database's ids as they are.
    static func isIdentity(_ index: [Int16]) -> Bool { index.enumerated().allSatisfy { Int($1) == $0 } }

    /// `behaviours` as the model's ids.
    static func modelBehaviours(_ behaviours: some Collection<Int16>, index: [Int16]) -> [Int16] {
        behaviours.map { $0 >= 0 && Int($0) < index.count ? index[Int($0)] : 0 }
    }

    func scores(_ queries: [ScoringQuery], into scores: Tensor) {
        model.scores(mapped(queries), into: scores)
    }

    /// The queries with the model's behaviour ids.
    func mapped(_ queries: [ScoringQuery]) -> [ScoringQuery] {
        queries.map { q in
            let h = q.history
            return ScoringQuery(history: EventSequence(items: h.items, times: h.times, targets: h.targets,
                                                       behaviours: h.behaviours.map { ArraySlice(Self.modelBehaviours($0, index: index)) },
                                                       values: h.values), time: q.time, event: q.event)
        }
    }
}
