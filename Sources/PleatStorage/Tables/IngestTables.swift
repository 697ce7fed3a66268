/// What an ingest batch reads and writes, inside the batch's transaction: the batch's row in
/// `ingest_batches`, the id tables (`users`, `items`, `event_types`), `interactions` and `item_metadata`.
/// The COPY layouts are defined here once; the ingest streams rows into them.
public struct IngestTables {
    /// Serialises ingests: ids are assigned client-side from the current maximum.
    static let lockKey = 0x506C_6561_7402
    /// The columns of an event in the order of `appendEvent`.
    static let eventColumns = "(user_id, occurred_at, item_id, event_type, value, batch_id, shard)"

    /// An id table of the catalogue.
    public enum IdTable: String, Sendable {
        case users, items, eventTypes = "event_types"
        var nameColumn: String { self == .eventTypes ? "name" : "external_id" }
    }

    /// The outcome of a batch, as `ingest_batches` records it.
    public struct Outcome: Sendable {
        public var status: String, rowsRead: Int, rowsLoaded: Int, rowsRejected: Int, duplicates: Int
        public var newUsers: Int, newItems: Int, itemsDescribed: Int, message: String?, seconds: Double
        public init(status: String, rowsRead: Int, rowsLoaded: Int, rowsRejected: Int, duplicates: Int, newUsers: Int, newItems: Int,
                    itemsDescribed: Int, message: String?, seconds: Double) {
            (self.status, self.rowsRead, self.rowsLoaded, self.rowsRejected, self.duplicates) = (status, rowsRead, rowsLoaded, rowsRejected, duplicates)
            (self.newUsers, self.newItems, self.itemsDescribed, self.message, self.seconds) = (newUsers, newItems, itemsDescribed, message, seconds)
        }
    }

    let db: PostgresConnection
    public init(_ db: PostgresConnection) { self.db = db }

    // MARK: The batch

    /// Waits for any other ingest to finish (the lock is the transaction's), then records a new batch as
    /// committed (it commits or vanishes with the transaction); returns its id.
    public func beginBatch(source: String, format: String, itemsSource: String?) throws -> Int {
        try db.execute("SELECT pg_advisory_xact_lock(\(Self.lockKey))")
        return try db.query("""
            INSERT INTO ingest_batches (source, format, sha256, items_source, status, started_at)
            VALUES ($1, $2, '', $3, 'committed', now()) RETURNING id
            """, [.text(source), .text(format), .text(itemsSource)]).only("ingest_batches insert").int("id")
    }

    /// The committed batch that loaded the same input (and item file) before, if any.
    public func committedBatch(sha256: String, itemsSHA256: String?) throws -> Int? {
        try db.query("""
            SELECT id FROM ingest_batches
            WHERE status = 'committed' AND sha256 = $1 AND items_sha256 IS NOT DISTINCT FROM $2
            ORDER BY id LIMIT 1
            """, [.text(sha256), .text(itemsSHA256)]).first?.int("id")
    }

    public func setHashes(batch: Int, sha256: String, itemsSHA256: String?) throws {
        _ = try db.query("UPDATE ingest_batches SET sha256 = $2, items_sha256 = $3 WHERE id = $1", [.int(batch), .text(sha256), .text(itemsSHA256)])
    }

    public func finish(batch: Int, _ o: Outcome) throws {
        _ = try db.query("""
            UPDATE ingest_batches SET status = $2, rows_read = $3, rows_loaded = $4, rows_rejected = $5,
                duplicates = $6, new_users = $7, new_items = $8, items_described = $9, message = $10,
                finished_at = clock_timestamp(), seconds = $11
            WHERE id = $1
            """, [.int(batch), .text(o.status), .int(o.rowsRead), .int(o.rowsLoaded), .int(o.rowsRejected), .int(o.duplicates),
                  .int(o.newUsers), .int(o.newItems), .int(o.itemsDescribed), .text(o.message), .double(o.seconds)])
        // Delivered when the batch's transaction commits, never if it rolls back (`IngestAnnouncements`).
        if o.status == "committed" {
            _ = try db.query("SELECT pg_notify($1, $2)", [.text(IngestAnnouncements.channel), .text(String(batch))])
        }
    }

    /// A point the events can be rolled back to (`rollbackEvents`) while the batch's row stays.
    public func markBeforeEvents() throws { try db.execute("SAVEPOINT before_events") }
    public func rollbackEvents() throws { try db.execute("ROLLBACK TO SAVEPOINT before_events") }

    // MARK: Ids

    /// How many rows an id table holds.
    public func count(_ table: IdTable) throws -> Int {
        try db.query("SELECT count(*) AS n FROM \(table.rawValue)").only("\(table.rawValue) count").int("n")
    }

    /// Every (id, name) of an id table, the name as its raw bytes.
    public func forEachId(_ table: IdTable, _ body: (Int32, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        try db.copyOutBinary("COPY \(table.rawValue) (id, \(table.nameColumn)) TO STDOUT (FORMAT binary)") { fields in
            guard let idField = fields[0], let name = fields[1] else { throw PostgresError("\(table.rawValue): a NULL id or name") }
            // event_types' id is a smallint.
            try body(idField.count == 2 ? Int32(idField.loadBigEndian(Int16.self)) : idField.loadBigEndian(Int32.self), name)
        }
    }

    /// Stores new ids: `rows` calls its argument once per (name bytes, id).
    public func insertIds(_ table: IdTable, batch: Int, _ rows: ((UnsafeBufferPointer<UInt8>, Int32) throws -> Void) throws -> Void) throws {
        let columns = table == .eventTypes ? "(id, name)" : "(id, external_id, batch_id)"
        _ = try db.copyIn("COPY \(table.rawValue) \(columns) FROM STDIN (FORMAT binary)") { writer in
            writer.binaryHeader()
            try rows { name, id in
                if table == .eventTypes {
                    try writer.beginRow(fields: 2)
                    writer.int16(Int16(id))
                    writer.bytes(UnsafeRawBufferPointer(name))
                } else {
                    try writer.beginRow(fields: 3)
                    writer.int32(id)
                    writer.bytes(UnsafeRawBufferPointer(name))
                    writer.int32(Int32(batch))
                }
            }
            writer.binaryTrailer()
        }
    }

    // MARK: Events

    /// Appends one event to a COPY stream of `copyEvents` or `insertEventsSkippingStored`; `value` NaN is
    /// none; `partition` is the user's (`InteractionPartitions.partition(ofUser:)`).
    @inline(__always)
    public static func appendEvent(to writer: CopyInWriter, user: Int32, unixMicros: Int64, item: Int32, event: Int16, value: Float,
                                   batch: Int32, partition: Int16) throws {
        assert((0..<Int16(InteractionPartitions.count)).contains(partition), "partition \(partition) out of range")
        try writer.beginRow(fields: 7)
        writer.int32(user)
        writer.timestamp(unixMicros: unixMicros)
        writer.int32(item)
        writer.int16(event)
        if value.isNaN { writer.null() } else { writer.float4(value) }
        writer.int32(batch)
        writer.int16(partition)
    }

    /// A COPY straight into `interactions` (rows from `appendEvent`, header and trailer included).
    public func copyEvents(_ body: (CopyInWriter) throws -> Void) throws {
        _ = try db.copyIn("COPY interactions \(Self.eventColumns) FROM STDIN (FORMAT binary)") { writer in
            writer.binaryHeader()
            try body(writer)
            writer.binaryTrailer()
        }
    }

    /// Events that may already be stored: copied into a staging table, then inserted with `ON CONFLICT DO
    /// NOTHING`; returns how many were new.
    public func insertEventsSkippingStored(_ body: (CopyInWriter) throws -> Void) throws -> Int {
        try db.execute("CREATE TEMP TABLE ingest_staging (LIKE interactions) ON COMMIT DROP")
        let staged = try db.copyIn("COPY ingest_staging \(Self.eventColumns) FROM STDIN (FORMAT binary)") { writer in
            writer.binaryHeader()
            try body(writer)
            writer.binaryTrailer()
        }
        guard staged > 0 else { return 0 }  // nothing that could collide: no INSERT to plan and run
        return try db.execute("INSERT INTO interactions SELECT * FROM ingest_staging ON CONFLICT DO NOTHING")
    }

    // MARK: Item metadata

    /// Stores item descriptions (the first genre is the category); a described item's row is replaced.
    /// Returns the rows written.
    public func upsertItemMetadata(batch: Int, _ rows: ((Int32, String?, [String]) throws -> Void) throws -> Void) throws -> Int {
        try db.execute("CREATE TEMP TABLE item_staging (item_id integer, title text, genres text[]) ON COMMIT DROP")
        _ = try db.copyIn("COPY item_staging FROM STDIN (FORMAT binary)") { writer in
            writer.binaryHeader()
            try rows { id, title, genres in
                try writer.beginRow(fields: 3)
                writer.int32(id)
                if let title { writer.text(title) } else { writer.null() }
                writer.textArray(genres)
            }
            writer.binaryTrailer()
        }
        return try db.execute("""
            INSERT INTO item_metadata (item_id, title, category, genres, batch_id)
            SELECT item_id, title, genres[1], genres, \(batch) FROM item_staging
            ON CONFLICT (item_id) DO UPDATE
            SET title = EXCLUDED.title, category = EXCLUDED.category, genres = EXCLUDED.genres, batch_id = EXCLUDED.batch_id
            """)
    }
}
