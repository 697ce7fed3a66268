import PleatStorage

/// Reads every user's history from PostgreSQL with one streaming query in primary-key order (user,
/// then time), inside a repeatable-read snapshot so the data and its batch snapshot agree.
public enum HistoryLoader {
    /// `upToBatch` limits the data to ingest batches up to that id (a resumed run sees exactly the data
    /// it started with); nil reads everything committed.
    public static func load(from db: PostgresConnection, upToBatch: Int? = nil) throws -> InteractionHistories {
        var histories = InteractionHistories()
        try db.transaction {
            try db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            let newest = try IngestBatches.newestCommitted(db)
            histories.snapshotBatch = min(newest, upToBatch ?? newest)
            let filter = upToBatch.map { "WHERE batch_id <= \($0)" } ?? ""
            let estimate = try db.query("SELECT reltuples::bigint FROM pg_class WHERE relname = 'interactions'").int(0, 0) ?? 0
            histories.items.reserveCapacity(max(estimate, 0))
            histories.times.reserveCapacity(max(estimate, 0))
            try db.copyOutBinary("""
                COPY (SELECT user_id, item_id, occurred_at FROM interactions \(filter)
                      ORDER BY user_id, occurred_at, item_id, event_type) TO STDOUT (FORMAT binary)
                """) { fields in
                let micros = fields[2]!.loadBigEndian(Int64.self) + postgresEpochOffsetMicros
                histories.append(user: fields[0]!.loadBigEndian(Int32.self), item: fields[1]!.loadBigEndian(Int32.self),
                                 time: micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000)
            }
        }
        histories.finish()
        return histories
    }

    /// PostgreSQL counts time from 2000-01-01.
    static let postgresEpochOffsetMicros: Int64 = 946_684_800 * 1_000_000
}
