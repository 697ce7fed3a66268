import Foundation
import PleatHistories
import PleatStorage
import PleatTensor

extension FoldKeys {
    /// The keys `settings` asks for, for the items of `vocabulary`: categories from item metadata, clusters
    /// of a registered model's item embeddings, or time windows. nil when folding is off.
    public static func load(_ settings: FoldSettings, vocabulary: ItemVocabulary, db: PostgresConnection, seed: UInt64) throws -> FoldKeys? {
        switch settings.key {
        case .none:
            return nil
        case .time:
            return .timeWindow(seconds: Int64(settings.timeWindowDays * 86_400), count: 1_024)
        case .category:
            let categoryOf = try ItemTable(db).categories()
            let names = Set(categoryOf.values).sorted()
            guard !names.isEmpty else {
                throw FoldKeysError("fold.key = category: no item has a category or genre; ingest item metadata (--items) or use fold.key = time")
            }
            let id = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0 + 1)) })
            return .perItem(vocabulary.databaseIds.map { categoryOf[$0].flatMap { id[$0] } ?? 0 }, count: names.count, names: names)
        case .cluster:
            return try clusters(settings, vocabulary: vocabulary, db: db, seed: seed)
        }
    }

    /// Balanced k-means over the item embeddings of `settings.clusterModel`; items that model does not
    /// know share one extra key.
    static func clusters(_ settings: FoldSettings, vocabulary: ItemVocabulary, db: PostgresConnection, seed: UInt64) throws -> FoldKeys {
        guard !settings.clusterModel.isEmpty, let source = try ModelRegistry(db).find(settings.clusterModel) else {
            throw FoldKeysError("fold.key = cluster needs fold.cluster_model = the id of a registered model (see `pleat models list`)")
        }
        let artifact = try ModelArtifact.load(from: URL(fileURLWithPath: source.artifactPath), expectedWeightsSHA256: source.artifactSHA256)
        let sourceItems = artifact.vocabulary.databaseIds, d = artifact.spec.dimension
        let rows = artifact.spec.kind == .bert4rec ? sourceItems.count + 1 : sourceItems.count  // BERT4Rec adds [MASK]
        let table = Tensor([rows, d])
        try SafeTensors.read(artifact.directory.appendingPathComponent(ModelArtifact.weightsFile), into: [("item_emb.weight", table)])
        let embeddings = Array(table.buffer[d..<(sourceItems.count * d)])  // without padding (and [MASK])
        let k = settings.clusters
        let assignment = BalancedKMeans.cluster(embeddings, count: sourceItems.count - 1, dimension: d, clusters: k, seed: seed)
        var clusterOf: [Int32: Int32] = [:]
        for (i, id) in sourceItems.dropFirst().enumerated() { clusterOf[id] = assignment[i] + 1 }
        let unknown = Int32(k + 1)
        return .perItem(vocabulary.databaseIds.enumerated().map { i, id in i == 0 ? 0 : clusterOf[id] ?? unknown }, count: k + 1)
    }
}

extension FoldKeys {
    /// A parent model's frozen keys for a warm start's larger `vocabulary` (the parent's items first):
    /// every old item keeps its key, and a new item gets one by the rule that made them: its category's
    /// key (0 for a category the parent had no key for), or with clusters the key of items the cluster
    /// source did not know. Time windows do not depend on items.
    /// `categories`: each item's category by database id (`ItemTable.categories`), read only for that rule.
    public func extended(to vocabulary: ItemVocabulary, rule: FoldSettings.Key, categories: () throws -> [Int32: String]) throws -> FoldKeys {
        guard case .perItem(let keys, let count, let names) = self else { return self }
        precondition(vocabulary.count + 1 >= keys.count, "a warm start's vocabulary extends its parent's")
        let newIds = vocabulary.databaseIds[keys.count...]
        let newKeys: [Int32]
        switch rule {
        case .category:
            let categoryOf = try categories()
            let keyOf = Dictionary(uniqueKeysWithValues: (names ?? []).enumerated().map { ($1, Int32($0 + 1)) })
            newKeys = newIds.map { categoryOf[$0].flatMap { keyOf[$0] } ?? 0 }
        case .cluster:
            newKeys = newIds.map { _ in Int32(count) }  // `clusters`: the last key is the one of items the source did not know
        case .none, .time:
            newKeys = newIds.map { _ in 0 }
        }
        return .perItem(keys + newKeys, count: count, names: names)
    }
}

/// Fold keys that cannot be made from the data or settings given (no category anywhere, no cluster model).
public struct FoldKeysError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
