import Foundation
import PleatCore
import PleatHistories
import PleatModel
import PleatStorage
import PleatTensor

/// What a warm-started run takes from its parent (`warm_start.parent`) and the data since: the extended
/// vocabulary, the parent's weights for it, fold keys, and the users it trains.
///
/// Everything here is a function of the parent, the data snapshot and the seed, so a warm start is as
/// deterministic as a cold one, and a run killed before its first checkpoint starts again from the same
/// weights.
public struct WarmStart {
    public let parent: ModelRecord
    let artifact: ModelArtifact
    let settings: WarmStartSettings
    /// The parent's items at their indices, then the items new since its snapshot, then (`cold_items`)
    /// items with metadata and no event yet.
    public let vocabulary: ArtifactVocabulary
    /// Per new item (model index), the parent's items of its category: its first row is their mean.
    let categoryRows: [Int32: [Int32]]
    /// Per cold item (model index), the items with events of its category: its row after training.
    let coldRows: [Int32: [Int32]]
    /// Per user slot: whether the run trains on the user (events since the parent, or drawn for replay).
    public let trains: [Bool]
    /// Per user slot: whether the user has events since the parent's snapshot. Their validation events
    /// choose the epoch: they are what the parent has not seen, as tomorrow's events will be.
    public let changed: [Bool]
    public let changedUsers: Int
    public var newItems: Int { vocabulary.count - parent.items - coldRows.count }
    public var coldItems: Int { coldRows.count }

    /// Reads the parent and the data since its snapshot. `itemCounts`: events per database item id in
    /// `histories` (summed over ranks); `minCount`: the config's, for which new items join.
    static func prepare(_ settings: WarmStartSettings, spec: ModelSpec, histories: InteractionHistories, itemCounts: [Int64],
                        minCount: Int, seed: UInt64, db: PostgresConnection) throws -> WarmStart {
        guard let parent = try ModelRegistry(db).find(settings.parent) else {
            throw ConfigError(description: "config key warm_start.parent: no model \(settings.parent) in the registry (see `pleat models list`)"
                              + (settings.parent == "serving" ? "; `pleat train --warm-start serving` finds the serving model's id" : ""))
        }
        guard parent.kind == spec.kind else {
            throw ConfigError(description: "config key warm_start.parent: \(parent.id) is a \(parent.kind.rawValue) model, this run trains \(spec.kind.rawValue)")
        }
        guard parent.snapshotBatch <= histories.snapshotBatch else {
            throw ConfigError(description: "config key warm_start.parent: \(parent.id) was trained on data up to ingest batch \(parent.snapshotBatch), "
                              + "newer than this run's \(histories.snapshotBatch)")
        }
        let artifact = try ModelArtifact.load(from: URL(fileURLWithPath: parent.artifactPath), expectedWeightsSHA256: parent.artifactSHA256)
        guard artifact.spec.fold.key == spec.fold.key else {
            throw ConfigError(description: "config key fold.key: \(parent.id) folds by \(artifact.spec.fold.key.rawValue), this run by \(spec.fold.key.rawValue): "
                              + "a warm start keeps its parent's folding")
        }
        let old = artifact.vocabulary
        let known = Set(old.databaseIds)
        let newIds = ItemVocabulary(counts: itemCounts, minCount: minCount).databaseIds.dropFirst().filter { !known.contains($0) }
        let categoryOf = newIds.isEmpty && !settings.coldItems ? [:] : try ItemTable(db).categories()
        let coldIds = settings.coldItems
            ? categoryOf.keys.filter { id in !known.contains(id) && (Int(id) >= itemCounts.count || itemCounts[Int(id)] == 0) }.sorted()
            : []
        let added = Array(newIds) + coldIds
        // The parent's items keep their model indices; the added ones follow.
        let allIds = old.databaseIds + added
        let vocabulary = try TrainingJob.vocabulary(ItemVocabulary(databaseIds: allIds), counts: itemCounts,
                                                    snapshotBatch: histories.snapshotBatch, db: db)

        // Rows by category: a new item starts from its category's old items, a cold one ends as the mean of
        // every item with events in its category.
        var oldByCategory: [String: [Int32]] = [:], eventfulByCategory: [String: [Int32]] = [:]
        for (index, id) in allIds.enumerated().dropFirst() {
            guard let category = categoryOf[id] else { continue }
            if index <= old.count { oldByCategory[category, default: []].append(Int32(index)) }
            if index <= old.count + newIds.count { eventfulByCategory[category, default: []].append(Int32(index)) }
        }
        var categoryRows: [Int32: [Int32]] = [:], coldRows: [Int32: [Int32]] = [:]
        for (offset, id) in added.enumerated() {
            let index = Int32(old.count + 1 + offset)
            if offset < newIds.count {
                if settings.newItems.resolved(for: spec.kind) == .category, let rows = categoryOf[id].flatMap({ oldByCategory[$0] }) { categoryRows[index] = rows }
            } else {
                coldRows[index] = categoryOf[id].flatMap { eventfulByCategory[$0] } ?? []
            }
        }

        // The users to train: those with events since the parent's snapshot, and a seeded replay sample.
        let changed = try UserTable(db).withEvents(afterBatch: parent.snapshotBatch, throughBatch: histories.snapshotBatch)
        var replay = RandomSource(seed: seed).split(0x7265_706C_6179)  // "replay"
        let isChanged = histories.userIds.map(changed.contains)
        let trains = histories.userIds.indices.map { isChanged[$0] || replay.uniform() < settings.replayShare }
        return WarmStart(parent: parent, artifact: artifact, settings: settings, vocabulary: vocabulary, categoryRows: categoryRows, coldRows: coldRows,
                         trains: trains, changed: isChanged, changedUsers: isChanged.filter { $0 }.count)
    }

    /// The parent's frozen fold keys for the extended vocabulary (nil when the parent does not fold).
    func foldKeys(rule: FoldSettings.Key, db: PostgresConnection) throws -> FoldKeys? {
        try artifact.foldKeys?.extended(to: vocabulary.trainingIndex, rule: rule, categories: { try ItemTable(db).categories() })
    }

    /// Sets `store` (a model of the extended vocabulary, freshly initialised) to the parent's weights, and
    /// `optimizer` to the parent's state when `warm_start.optimizer` says so and the parent kept one.
    /// Returns whether the optimiser continues the parent's.
    @discardableResult
    public func initialise(_ store: ParameterStore, optimizer: Adam) throws -> Bool {
        let weights = try ParentWeights(artifact, model: store, items: vocabulary.count)
        weights.copy(into: store, categoryRows: categoryRows)
        optimizer.reset()
        return settings.optimizer == .parent ? try weights.copyOptimizer(from: artifact, into: optimizer) : false
    }

    /// Shrink and perturb: each weight of `store` (the parent's, as `initialise` set them) becomes
    /// `shrink` × itself + (1 − shrink) × the same weight of `fresh` (a fresh initialisation, built only
    /// when `warm_start.shrink` is below 1).
    public func shrink(_ store: ParameterStore, towards fresh: @autoclosure () -> ParameterStore) {
        guard settings.shrink < 1 else { return }
        store.interpolate(towards: fresh(), keeping: settings.shrink)
    }

    /// After training: each cold item's rows become its category's mean. Returns whether anything changed.
    public func finish(_ store: ParameterStore) throws -> Bool {
        guard !coldRows.isEmpty else { return false }
        try ParentWeights(artifact, model: store, items: vocabulary.count).setMeans(store, coldRows)
        return true
    }
}
