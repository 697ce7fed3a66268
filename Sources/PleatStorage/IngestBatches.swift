/// The `ingest_batches` table as the later stages see it: which data exists.
public enum IngestBatches {
    /// The id of the newest committed batch (0 before the first ingest): the data snapshot that a
    /// training run reads and that a job compares with its last model's.
    public static func newestCommitted(_ db: PostgresConnection) throws -> Int {
        try db.query("SELECT coalesce(max(id), 0) FROM ingest_batches WHERE status = 'committed'").int(0, 0) ?? 0
    }
}
