import PleatHistories

/// `vocabulary.json` of an artifact: every item the model knows, by model index, with its id in the
/// database it was trained on, its external id (what makes the artifact usable against another
/// database), and how often it occurs in the training data (the popularity fallback); and the data
/// snapshot the model was trained on.
public struct ArtifactVocabulary: Sendable, Codable, Equatable {
    /// The newest ingest batch of the training data (a resumed run reloads exactly that data).
    public var snapshotBatch: Int
    /// Index i is model index i; index 0 is padding (id 0, external id "", count 0).
    public var databaseIds: [Int32]
    public var externalIds: [String]
    /// Events of each item in the histories the model was trained from; nil in artifacts written before
    /// counts were kept.
    public var counts: [Int]?

    public init(snapshotBatch: Int, databaseIds: [Int32], externalIds: [String], counts: [Int]?) {
        (self.snapshotBatch, self.databaseIds, self.externalIds, self.counts) = (snapshotBatch, databaseIds, externalIds, counts)
    }

    /// Items the model knows (without padding).
    public var count: Int { databaseIds.count - 1 }

    /// The training database's vocabulary (model index ↔ database id).
    public var trainingIndex: ItemVocabulary { ItemVocabulary(databaseIds: databaseIds) }

    /// Model indices by training frequency, most frequent first (ties by index): the model's popular items.
    public func popular(limit: Int) -> [Int32] {
        guard let counts else { return [] }
        return Array(counts.indices.dropFirst().sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }
            .prefix(limit).map(Int32.init))
    }
}
