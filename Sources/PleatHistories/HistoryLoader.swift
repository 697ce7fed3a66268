import Foundation
import PleatCore
import PleatStorage

/// Reads users' histories from PostgreSQL in primary-key order (user, then time), inside one
/// repeatable-read snapshot so the data and its batch snapshot agree.
///
/// The partitions of `interactions` are read in parallel, each over its own connection that joins the
/// first one's snapshot (`pg_export_snapshot`), and merged in user-id order: the result is the same,
/// array for array, whatever the number of readers.
public enum HistoryLoader {
    /// Connections reading partitions at once by default: one per two cores, at most 4. Each reader keeps
    /// two cores busy (its server process and the client parsing), so on 2 cores a second reader only adds
    /// contention and the merge: reading a quarter of 100 M events took 1.11x as long with 2 readers as
    /// with 1 (median of 5 alternating pairs, AMD EPYC family 25 model 17, 2 cores).
    public static var defaultReaders: Int { max(1, min(4, UsableCPUs.current.count / 2)) }

    /// `upToBatch` limits the data to ingest batches up to that id (a resumed run sees exactly the data
    /// it started with); nil reads everything committed. `shard` keeps only the users the shard
    /// function gives to it (`Shard`).
    public static func load(from db: PostgresConnection, upToBatch: Int? = nil, shard: Shard = .all,
                            readers: Int = defaultReaders) throws -> InteractionHistories {
        try InteractionReader.inSnapshot(db) { reader in
            let newest = try reader.newestCommittedBatch()
            let snapshotBatch = min(newest, upToBatch ?? newest)
            let filter = InteractionReader.Filter(upToBatch: upToBatch, shard: shard)
            let partitions = try reader.partitions(of: shard)
            // Of each partition read, the share of rows the shard keeps: all of them when the shard is whole
            // partitions (only those are read).
            let expectedShare = InteractionPartitions.numbers(of: shard) != nil ? 1 : 1.0 / Double(shard.count)

            let groups = Self.balance(partitions, into: max(1, min(readers, partitions.count)))
            var parts: [InteractionHistories]
            if groups.count == 1 {
                // One reader reads the parent table: PostgreSQL merges the partitions in key order, so the
                // result needs no merge here (nor its copy of every event).
                let whole = InteractionPartitions.Partition(table: "interactions", estimatedRows: partitions.reduce(0) { $0 + $1.estimatedRows })
                parts = [try read(whole, filter: filter, expectedShare: expectedShare, with: reader)]
            } else {
                parts = try readInParallel(groups, url: db.url, snapshot: try reader.exportSnapshot(), filter: filter, expectedShare: expectedShare)
            }
            var histories = InteractionHistories.merging(parts)
            parts.removeAll()
            histories.snapshotBatch = snapshotBatch
            return histories
        }
    }

    /// One partition, or the whole table, as histories.
    static func read(_ partition: InteractionPartitions.Partition, filter: InteractionReader.Filter, expectedShare: Double,
                     with reader: InteractionReader) throws -> InteractionHistories {
        var histories = InteractionHistories()
        let estimate = Int(Double(partition.estimatedRows) * expectedShare)
        histories.reserveCapacity(events: estimate)
        try reader.events(of: partition.table, filter: filter) { histories.append($0) }
        histories.finish()
        return histories
    }

    /// Each group of partitions on a connection of its own, in the exported snapshot.
    static func readInParallel(_ groups: [[InteractionPartitions.Partition]], url: String, snapshot: String,
                               filter: InteractionReader.Filter, expectedShare: Double) throws -> [InteractionHistories] {
        let results = ResultSlots<[InteractionHistories]>(count: groups.count)
        DispatchQueue.concurrentPerform(iterations: groups.count) { g in
            results.set(g, Result {
                try InteractionReader.joining(snapshot, on: try PostgresConnection(url: url)) { reader in
                    try groups[g].map { try read($0, filter: filter, expectedShare: expectedShare, with: reader) }
                }
            })
        }
        return try results.values().flatMap { try $0.get() }
    }

    /// Partitions split into `count` groups of about equal estimated rows (largest first, each to the
    /// lightest group).
    static func balance(_ partitions: [InteractionPartitions.Partition], into count: Int) -> [[InteractionPartitions.Partition]] {
        var groups = [[InteractionPartitions.Partition]](repeating: [], count: count)
        var load = [Int](repeating: 0, count: count)
        for partition in partitions.sorted(by: { $0.estimatedRows > $1.estimatedRows }) {
            let lightest = load.indices.min { load[$0] < load[$1] }!
            groups[lightest].append(partition)
            load[lightest] += partition.estimatedRows
        }
        return groups.filter { !$0.isEmpty }
    }
}

/// One result per concurrent worker, each written once by its own worker.
private final class ResultSlots<T>: @unchecked Sendable {
    private var slots: [Result<T, Error>]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: .failure(NotRun()), count: count) }
    func set(_ index: Int, _ result: Result<T, Error>) { lock.withLock { slots[index] = result } }
    func values() -> [Result<T, Error>] { lock.withLock { slots } }

    /// A slot's content until its worker has set it (`concurrentPerform` returns after every worker ran).
    struct NotRun: Error {}
}
