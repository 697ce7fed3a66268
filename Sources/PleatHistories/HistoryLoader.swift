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
    public static var defaultReaders: Int { max(1, min(4, ProcessInfo.processInfo.activeProcessorCount / 2)) }

    /// `upToBatch` limits the data to ingest batches up to that id (a resumed run sees exactly the data
    /// it started with); nil reads everything committed. `shard` keeps only the users the shard
    /// function gives to it (`Shard`).
    public static func load(from db: PostgresConnection, upToBatch: Int? = nil, shard: Shard = .all,
                            readers: Int = defaultReaders) throws -> InteractionHistories {
        try db.transaction {
            try db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            let newest = try IngestBatches.newestCommitted(db)
            let snapshotBatch = min(newest, upToBatch ?? newest)
            let filter = Self.filter(upToBatch: upToBatch, shard: shard)
            let partitions = try InteractionPartitions.list(db)
            let expectedShare = 1.0 / Double(shard.count)

            let groups = Self.balance(partitions, into: max(1, min(readers, partitions.count)))
            var parts: [InteractionHistories]
            if groups.count == 1 {
                // One reader reads the parent table: PostgreSQL merges the partitions in key order, so the
                // result needs no merge here (nor its copy of every event).
                let whole = InteractionPartitions.Partition(table: "interactions", estimatedRows: partitions.reduce(0) { $0 + $1.estimatedRows })
                parts = [try read(whole, filter: filter, expectedShare: expectedShare, on: db)]
            } else {
                let snapshot = try db.query("SELECT pg_export_snapshot()").string(0, 0)!
                parts = try readInParallel(groups, url: db.url, snapshot: snapshot, filter: filter, expectedShare: expectedShare)
            }
            var histories = InteractionHistories.merging(parts)
            parts.removeAll()
            histories.snapshotBatch = snapshotBatch
            return histories
        }
    }

    /// The WHERE clause of a read: ingest batches up to `upToBatch`, the shard's users.
    static func filter(upToBatch: Int?, shard: Shard) -> String {
        var conditions: [String] = []
        if let upToBatch { conditions.append("batch_id <= \(upToBatch)") }
        if shard.count > 1 { conditions.append("user_id IN (SELECT u.id FROM users u WHERE \(shard.sqlCondition(usersAlias: "u")))") }
        return conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    }

    /// One partition, or the whole table, as histories.
    static func read(_ partition: InteractionPartitions.Partition, filter: String, expectedShare: Double,
                     on db: PostgresConnection) throws -> InteractionHistories {
        var histories = InteractionHistories()
        let estimate = Int(Double(partition.estimatedRows) * expectedShare)
        histories.items.reserveCapacity(estimate)
        histories.times.reserveCapacity(estimate)
        try copyEvents(of: partition.table, filter: filter, on: db) { histories.append(user: $0, item: $1, time: $2) }
        histories.finish()
        return histories
    }

    /// Every event of `table` that passes `filter`, in key order (user, time), as (user, item, Unix seconds).
    static func copyEvents(of table: String, filter: String, on db: PostgresConnection,
                           _ event: (Int32, Int32, Int64) throws -> Void) throws {
        try db.copyOutBinary("""
            COPY (SELECT user_id, item_id, occurred_at FROM "\(table)" \(filter)
                  ORDER BY user_id, occurred_at, item_id, event_type) TO STDOUT (FORMAT binary)
            """) { fields in
            try event(fields[0]!.loadBigEndian(Int32.self), fields[1]!.loadBigEndian(Int32.self),
                      PostgresTimestamp.unixSeconds(binary: fields[2]!.loadBigEndian(Int64.self)))
        }
    }

    /// Each group of partitions on a connection of its own, in the exported snapshot.
    static func readInParallel(_ groups: [[InteractionPartitions.Partition]], url: String, snapshot: String,
                               filter: String, expectedShare: Double) throws -> [InteractionHistories] {
        let results = ResultSlots<[InteractionHistories]>(count: groups.count)
        DispatchQueue.concurrentPerform(iterations: groups.count) { g in
            results.set(g, Result {
                let reader = try PostgresConnection(url: url)
                return try reader.transaction {
                    try reader.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    try reader.execute("SET TRANSACTION SNAPSHOT '\(snapshot)'")
                    return try groups[g].map { try read($0, filter: filter, expectedShare: expectedShare, on: reader) }
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
    private var slots: [Result<T, Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ result: Result<T, Error>) { lock.withLock { slots[index] = result } }
    func values() -> [Result<T, Error>] { lock.withLock { slots.map { $0! } } }
}
