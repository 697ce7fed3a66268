import PleatStorage

/// The bounds every ingested row is held to. A row past one is rejected with its line and the reason;
/// the rest of the file loads. docs/cli.md (`pleat ingest`) lists them with these reasons.
public enum IngestLimits {
    /// A record (a line, or a CSV record whose quoted fields span lines) longer than this is rejected
    /// without being held in memory: the reader's buffer never grows past its chunk, so memory does not
    /// depend on the input's line lengths (a file of one endless line included).
    public static let maxRecordBytes = 1 << 20
    /// How much of an over-long record `rejected_rows.raw` keeps.
    public static let keptBytesOfLongRecord = 64 << 10
    /// User, item and event type ids longer than this are rejected (`EventRules.maxIdBytes`).
    public static let maxIdBytes = EventRules.maxIdBytes
    /// Distinct event types in one database: `event_types.id` is a smallint.
    public static let maxEventTypes = Int(Int16.max)
    /// Distinct users, and distinct items, in one database: internal ids are 32-bit integers.
    public static let maxIds = Int(Int32.max)
    /// Event times inside timestamptz's four-digit years (`EventRules`).
    public static let earliestMicros = EventRules.earliestMicros
    public static let latestMicros = EventRules.latestMicros
}
