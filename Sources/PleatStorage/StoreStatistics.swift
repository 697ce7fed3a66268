/// Row counts of the main tables, for `pleat stats` and for checks after an ingest.
public struct StoreStatistics: Codable, Sendable, Equatable {
    public var users: Int
    public var items: Int
    public var interactions: Int
    public var itemsWithMetadata: Int
    public var eventTypes: Int
    public var ingestBatches: Int
    public var abortedBatches: Int
    public var rejectedRows: Int

    public static func read(from db: PostgresConnection) throws -> StoreStatistics {
        let r = try db.query("""
            SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM items) AS items,
                   (SELECT count(*) FROM interactions) AS interactions, (SELECT count(*) FROM item_metadata) AS described,
                   (SELECT count(*) FROM event_types) AS event_types, (SELECT count(*) FROM ingest_batches) AS batches,
                   (SELECT count(*) FROM ingest_batches WHERE status = 'aborted') AS aborted, (SELECT count(*) FROM rejected_rows) AS rejected
            """).only("table counts")
        return StoreStatistics(users: try r.int("users"), items: try r.int("items"), interactions: try r.int("interactions"),
                               itemsWithMetadata: try r.int("described"), eventTypes: try r.int("event_types"),
                               ingestBatches: try r.int("batches"), abortedBatches: try r.int("aborted"), rejectedRows: try r.int("rejected"))
    }

    public var rows: [(String, Int)] {
        [("users", users), ("items", items), ("interactions", interactions), ("items with metadata", itemsWithMetadata),
         ("event types", eventTypes), ("ingest batches", ingestBatches), ("aborted batches", abortedBatches),
         ("rejected rows", rejectedRows)]
    }
}
