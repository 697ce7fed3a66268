/// Committed ingest batches as they happen. `IngestTables.finish` of a committed batch sends
/// `NOTIFY pleat_ingest, '<batch id>'` inside the batch's transaction, which PostgreSQL delivers at
/// commit, so a listener learns of new events without asking for them (the server's cache freshness).
public final class IngestAnnouncements {
    public static let channel = "pleat_ingest"
    private let connection: PostgresConnection

    /// A connection of its own that listens; `timeouts` bound the connection attempt.
    public init(url: String, timeouts: PostgresConnection.Timeouts? = nil) throws {
        connection = try PostgresConnection(url: url, timeouts: timeouts)
        _ = try connection.execute("LISTEN \(Self.channel)")
    }

    /// The newest committed batch now. Read after `LISTEN`, so a batch committed since is announced too.
    public func newestCommitted() throws -> Int { try IngestBatches.newestCommitted(connection) }

    /// The ids of batches committed since the last call, waiting up to `seconds` for one (empty when
    /// none came). Throws when the connection is lost: announcements may then have been missed.
    public func committedBatches(waitingUpTo seconds: Double) throws -> [Int] {
        try connection.notifications(waitingUpTo: seconds).filter { $0.channel == Self.channel }.compactMap { Int($0.payload) }
    }
}
