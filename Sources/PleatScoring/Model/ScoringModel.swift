import Foundation
import PleatCore
import PleatHistories
import PleatMetrics
import PleatModel
import PleatStorage
import PleatTensor

/// A registered model loaded for inference from its artifact (verified against the registry's SHA-256):
/// the network with the trained weights, sized for `batchSize` queries per call (1 for live scoring,
/// where a bigger batch would cost its full width), and the map between its item indices and this
/// database's item ids, made through external ids, so an artifact trained against another database
/// (`pleat models import`) scores the same. Not thread-safe: the network reuses its buffers.
public final class ScoringModel {
    public let record: ModelRecord
    public let artifact: ModelArtifact
    let model: any NextItemModel
    /// This database's item ids → model indices.
    let itemIndex: ItemVocabulary
    /// `ItemScoring.topK`'s blocks of scores.
    private let blockScores: Tensor

    public var id: String { record.id }
    public var batchSize: Int { model.batchSize }
    public var items: Int { model.items }
    /// The network as a ranker over its own item indices (for offline evaluation).
    public var ranker: any ItemRanker { model }
    /// This database's id of each model index (0: padding, or an item this database does not have).
    public var databaseIds: [Int32] { itemIndex.databaseIds }

    public static func load(_ record: ModelRecord, db: PostgresConnection, batchSize: Int) throws -> ScoringModel {
        let artifact: ModelArtifact
        do { artifact = try ModelArtifact.load(from: URL(fileURLWithPath: record.artifactPath), expectedWeightsSHA256: record.artifactSHA256) } catch {
            throw ScoringError("model \(record.id): \(error)")
        }
        let databaseId = try ItemTable(db).ids(of: Array(artifact.vocabulary.externalIds.dropFirst()))
        let ids = artifact.vocabulary.externalIds.enumerated().map { i, external in i == 0 ? 0 : databaseId[external] ?? 0 }
        return ScoringModel(record: record, artifact: artifact, model: try artifact.makeModel(batchSize: batchSize), databaseIds: ids)
    }

    init(record: ModelRecord, artifact: ModelArtifact, model: any NextItemModel, databaseIds: [Int32]) {
        (self.record, self.artifact, self.model) = (record, artifact, model)
        itemIndex = ItemVocabulary(databaseIds: databaseIds)
        blockScores = Tensor([model.batchSize, ItemScoring.blockColumns])
    }

    /// A history in model indices: events of items the model does not know (newer than it) are left out.
    public func modelHistory(items: ArraySlice<Int32>, times: ArraySlice<Int64>) -> (items: [Int32], times: [Int64]) {
        var kept: ([Int32], [Int64]) = ([], [])
        kept.0.reserveCapacity(items.count); kept.1.reserveCapacity(items.count)
        for (item, time) in zip(items, times) {
            if let index = itemIndex.modelIndex(of: item) { kept.0.append(index); kept.1.append(time) }
        }
        return kept
    }

    /// Each history's top k items (model indices and scores, best first), asked right after its last
    /// event, under the seen-items rule `seen` (as `Evaluator.ranked` lists them). At most `batchSize` histories.
    /// The catalogue is scored in blocks (`ItemScoring.topK`): no row of every item's score is held.
    public func topK(_ histories: [(items: [Int32], times: [Int64])], k: Int, seen: SeenItems) -> [(items: [Int32], scores: [Float])] {
        precondition(histories.count <= batchSize)
        let queries = histories.map {
            ScoringQuery(history: EventSequence(items: $0.items[...], times: $0.times[...]), time: $0.times.last ?? 0)
        }
        return model.itemScoring(for: queries).topK(k: k, excluding: histories.map { seen.excluded(from: $0.items) },
                                                    scratch: blockScores)
    }

    /// External ids of model indices.
    public func externalIds(_ items: [Int32]) -> [String] { items.map { artifact.vocabulary.externalIds[Int($0)] } }

    /// A list as the cache keeps and serves it: this model's top items (model indices, best first) under
    /// their external ids, computed from a history whose newest event is `historyUntil` (Unix seconds).
    public func rankedList(user: String, _ top: (items: [Int32], scores: [Float]), historyUntil: Int64,
                           computedAt: Double = Date().timeIntervalSince1970) -> RankedList {
        RankedList(user: user, items: externalIds(top.items), scores: top.scores, historyUntil: historyUntil, computedAt: computedAt)
    }

    /// The model's items by how often they occur in its training data, most frequent first: the fallback
    /// for users the model cannot score. From the artifact: no database needed.
    public func popularItems(k: Int) -> (items: [Int32], scores: [Float]) {
        let items = artifact.vocabulary.popular(limit: k)
        return (items, items.map { Float(artifact.vocabulary.counts?[Int($0)] ?? 0) })
    }
}
