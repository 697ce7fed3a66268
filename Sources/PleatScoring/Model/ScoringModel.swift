import Foundation
import PleatCore
import PleatStorage
import PleatTensor
import PleatTraining

/// A registered model loaded for inference: its network with the trained weights, sized for `batchSize`
/// queries per call (1 for live scoring, where a bigger batch would cost its full width), and the map
/// between its item indices and the catalogue's ids. Not thread-safe: the network reuses its buffers.
public final class ScoringModel {
    public let record: ModelRecord
    public let config: TrainingConfig
    public let vocabulary: VocabularyFile
    let model: any NextItemModel
    let itemIndex: ItemVocabulary
    private let scores: Tensor
    private var indices: [Int32], selected: [Float]

    public var id: String { record.id }
    public var batchSize: Int { model.batchSize }
    public var items: Int { model.items }
    /// The network as a ranker over its own item indices (for offline evaluation).
    public var ranker: any ItemRanker { model }

    public static func load(_ record: ModelRecord, db: PostgresConnection, batchSize: Int) throws -> ScoringModel {
        let run = RunDirectory(URL(fileURLWithPath: record.artifactPath))
        guard FileManager.default.fileExists(atPath: run.modelFile.path) else {
            throw ScoringError("model \(record.id): no weights at \(run.modelFile.path) (artifacts moved or deleted?)")
        }
        var config = try JSONDecoder.snakeCase.decode(TrainingConfig.self, from: Data(record.config.utf8))
        config.batchSize = batchSize
        let vocabulary = try JSONDecoder.snakeCase.decode(VocabularyFile.self, from: Data(contentsOf: run.vocabularyFile))
        let itemIndex = ItemVocabulary(databaseIds: vocabulary.databaseIds)
        let foldKeys = try FoldKeys.load(config.fold, vocabulary: itemIndex, db: db, seed: config.seed)
        let model = config.model.makeModel(config: config, items: itemIndex.count, foldKeys: foldKeys)
        try Checkpoint.load(model.store, optimizer: nil, from: run.url)
        return ScoringModel(record: record, config: config, vocabulary: vocabulary, model: model, itemIndex: itemIndex)
    }

    init(record: ModelRecord, config: TrainingConfig, vocabulary: VocabularyFile, model: any NextItemModel, itemIndex: ItemVocabulary) {
        (self.record, self.config, self.vocabulary, self.model, self.itemIndex) = (record, config, vocabulary, model, itemIndex)
        scores = Tensor([model.batchSize, model.items + 1])
        (indices, selected) = ([], [])
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
    /// event. Items in the history are excluded unless `includeSeen`. At most `batchSize` histories.
    public func topK(_ histories: [(items: [Int32], times: [Int64])], k: Int, includeSeen: Bool) -> [(items: [Int32], scores: [Float])] {
        precondition(histories.count <= batchSize)
        let queries = histories.map {
            ScoringQuery(history: EventSequence(items: $0.items[...], times: $0.times[...]), time: $0.times.last ?? 0)
        }
        model.scores(queries, into: scores)
        let n = scores.columns, k = min(k, model.items)
        if indices.count < histories.count * k { (indices, selected) = ([Int32](repeating: 0, count: histories.count * k), [Float](repeating: 0, count: histories.count * k)) }
        var found = [Int](repeating: 0, count: histories.count)
        indices.withUnsafeMutableBufferPointer { idx in
            selected.withUnsafeMutableBufferPointer { sel in
                found.withUnsafeMutableBufferPointer { counts in
                    Parallel.forRows(histories.count, minimumPerWorker: 8) { range in
                        for r in range {
                            let row = scores.pointer + r * n
                            row[0] = -.infinity
                            if !includeSeen { for item in histories[r].items { row[Int(item)] = -.infinity } }
                            counts[r] = TopK.select(row, count: n, k: k, indices: idx.baseAddress! + r * k, scores: sel.baseAddress! + r * k)
                        }
                    }
                }
            }
        }
        return (0..<histories.count).map { r in
            (Array(indices[(r * k)..<(r * k + found[r])]), Array(selected[(r * k)..<(r * k + found[r])]))
        }
    }

    /// External ids of model indices.
    public func externalIds(_ items: [Int32]) -> [String] { items.map { vocabulary.externalIds[Int($0)] } }

    /// The model's items by how often they occur in the data up to its snapshot, most frequent first:
    /// the fallback for users the model cannot score.
    public func popularItems(db: PostgresConnection, k: Int) throws -> (items: [Int32], scores: [Float]) {
        let rows = try db.query("""
            SELECT item_id, count(*) FROM interactions WHERE batch_id <= $1 GROUP BY item_id ORDER BY count(*) DESC, item_id LIMIT $2
            """, [String(record.snapshotBatch), String(k + 1_000)])
        var items: [Int32] = [], scores: [Float] = []
        for r in 0..<rows.rowCount where items.count < k {
            guard let index = itemIndex.modelIndex(of: Int32(rows.int(r, 0)!)) else { continue }
            items.append(index)
            scores.append(Float(rows.int(r, 1)!))
        }
        return (items, scores)
    }
}
