extension InteractionPartitions {
    /// Prepares the first load into an empty `interactions` so that it skips the write-ahead log.
    ///
    /// With `wal_level = minimal` (Pleat's own cluster, `LocalCluster`), PostgreSQL does not log rows
    /// written to a relation whose storage was created in the same transaction: it syncs the files at
    /// commit instead. Truncating the empty partitions inside the loading transaction gives them new
    /// storage, so the whole first load (heap and index) writes no WAL; the 5 M-event ingest benchmark
    /// spends about a sixth of its server time on WAL otherwise. Commit or rollback stays atomic.
    ///
    /// Only a table holding no interactions at all qualifies: `TRUNCATE` holds an exclusive lock until
    /// commit, so readers of `interactions` wait for the batch (they would have seen nothing anyway),
    /// which must never happen to a database that already serves data. Nothing is done, and `false`
    /// returned, on any other WAL level, on a non-partitioned table, when a partition holds rows, or when
    /// a reader holds a partition now (the lock is tried without waiting). Call inside the transaction,
    /// after taking the ingest lock (no other writer can add rows meanwhile).
    public static func prepareFirstLoad(_ db: PostgresConnection) throws -> Bool {
        guard try db.query("SHOW wal_level").string(0, 0) == "minimal" else { return false }
        let tables = try list(db).map(\.table)
        guard tables.count > 1, try db.query("SELECT NOT EXISTS (SELECT 1 FROM interactions)").bool(0, 0) == true else {
            return false
        }
        let names = tables.joined(separator: ", ")
        try db.execute("SAVEPOINT first_load")
        do {
            try db.execute("LOCK TABLE \(names) IN ACCESS EXCLUSIVE MODE NOWAIT")
            try db.execute("TRUNCATE \(names)")
            try db.execute("RELEASE SAVEPOINT first_load")
            return true
        } catch {
            // Most likely a reader holds a partition; the load goes through the WAL as usual.
            try db.execute("ROLLBACK TO SAVEPOINT first_load")
            try db.execute("RELEASE SAVEPOINT first_load")
            return false
        }
    }
}
