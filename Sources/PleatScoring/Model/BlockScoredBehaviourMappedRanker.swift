import PleatModel
import PleatTensor

/// A mapped model that scores by blocks, so that evaluation past its memory budget ranks by blocks too.
final class BlockScoredBehaviourMappedRanker: BlockScoredRanker {
    private let mapping: BehaviourMappedRanker
    private let model: any BlockScoredRanker
    var batchSize: Int { model.batchSize }
    var items: Int { model.items }

    init(model: any BlockScoredRanker, index: [Int16]) {
        (self.model, mapping) = (model, BehaviourMappedRanker(model: model, index: index))
    }

    func scores(_ queries: [ScoringQuery], into scores: Tensor) { mapping.scores(queries, into: scores) }
    func itemScoring(for queries: [ScoringQuery]) -> ItemScoring { model.itemScoring(for: mapping.mapped(queries)) }
}
