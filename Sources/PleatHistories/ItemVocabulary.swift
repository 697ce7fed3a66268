/// The items a model knows: database item ids seen at least `minCount` times in the training events,
/// numbered 1…V in order of database id (0 is padding). Rarer items are dropped from sequences.
public struct ItemVocabulary: Sendable, Codable, Equatable {
    /// Database id of model index i (index 0: padding, id 0).
    public private(set) var databaseIds: [Int32] = [0]
    private var index: [Int32: Int32] = [:]

    public var count: Int { databaseIds.count - 1 }

    /// Counts events in `events` (database ids) and keeps items seen at least `minCount` times.
    public init<S: Sequence>(events: S, minCount: Int = 1) where S.Element == Int32 {
        var counts: [Int32: Int] = [:]
        for id in events { counts[id, default: 0] += 1 }
        for (id, count) in counts.sorted(by: { $0.key < $1.key }) where count >= minCount {
            index[id] = Int32(databaseIds.count)
            databaseIds.append(id)
        }
    }

    /// Items whose count (indexed by database id) is at least `minCount`: the vocabulary of events counted
    /// elsewhere, e.g. summed over the shards of a data-parallel job.
    public init(counts: [Int64], minCount: Int = 1) {
        for (id, count) in counts.enumerated() where id > 0 && count >= Int64(max(minCount, 1)) {
            index[Int32(id)] = Int32(databaseIds.count)
            databaseIds.append(Int32(id))
        }
    }

    /// Events per database item id (index = id, up to `largestId`).
    public static func counts<S: Sequence>(events: S, largestId: Int) -> [Int64] where S.Element == Int32 {
        var counts = [Int64](repeating: 0, count: largestId + 1)
        for id in events { counts[Int(id)] += 1 }
        return counts
    }

    /// A stored vocabulary (a trained model's `vocabulary.json`): `databaseIds[i]` is model index i.
    public init(databaseIds: [Int32]) {
        self.databaseIds = databaseIds
        for (i, id) in databaseIds.enumerated() where i > 0 { index[id] = Int32(i) }
    }

    /// The model index of a database item id, or nil when the item is not in the vocabulary.
    public func modelIndex(of databaseId: Int32) -> Int32? { index[databaseId] }
}
