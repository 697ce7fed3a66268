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
            SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM items), (SELECT count(*) FROM interactions),
                   (SELECT count(*) FROM item_metadata), (SELECT count(*) FROM event_types),
                   (SELECT count(*) FROM ingest_batches), (SELECT count(*) FROM ingest_batches WHERE status = 'aborted'),
                   (SELECT count(*) FROM rejected_rows)
            """)
        return StoreStatistics(users: r.int(0, 0)!, items: r.int(0, 1)!, interactions: r.int(0, 2)!,
                               itemsWithMetadata: r.int(0, 3)!, eventTypes: r.int(0, 4)!, ingestBatches: r.int(0, 5)!,
                               abortedBatches: r.int(0, 6)!, rejectedRows: r.int(0, 7)!)
    }

    public var rows: [(String, Int)] {
        [("users", users), ("items", items), ("interactions", interactions), ("items with metadata", itemsWithMetadata),
         ("event types", eventTypes), ("ingest batches", ingestBatches), ("aborted batches", abortedBatches),
         ("rejected rows", rejectedRows)]
    }
}
