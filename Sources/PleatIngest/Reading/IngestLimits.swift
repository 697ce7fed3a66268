/// The bounds every ingested row is held to. A row past one is rejected with its line and the reason;
/// the rest of the file loads. docs/cli.md (`pleat ingest`) lists them with these reasons.
public enum IngestLimits {
    /// A record (a line, or a CSV record whose quoted fields span lines) longer than this is rejected
    /// without being held in memory: the reader's buffer never grows past its chunk, so memory does not
    /// depend on the input's line lengths (a file of one endless line included).
    public static let maxRecordBytes = 1 << 20
    /// How much of an over-long record `rejected_rows.raw` keeps.
    public static let keptBytesOfLongRecord = 64 << 10
    /// User, item and event type ids longer than this are rejected: PostgreSQL's unique index on
    /// external ids holds at most about 2,700 bytes per entry, and ids of more than 1 KiB are corrupt in
    /// practice.
    public static let maxIdBytes = 1_024
    /// Distinct event types in one database: `event_types.id` is a smallint.
    public static let maxEventTypes = Int(Int16.max)
    /// Distinct users, and distinct items, in one database: internal ids are 32-bit integers.
    public static let maxIds = Int(Int32.max)
    /// Event times from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z, in microseconds since the
    /// Unix epoch: four-digit years, inside PostgreSQL's timestamptz range.
    public static let earliestMicros: Int64 = -62_135_596_800 * 1_000_000
    public static let latestMicros: Int64 = 253_402_300_800 * 1_000_000 - 1
}
