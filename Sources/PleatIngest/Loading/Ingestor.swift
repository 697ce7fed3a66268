import Foundation
import PleatCore
import PleatStorage

/// Loads one interaction file (and optionally its item metadata) into PostgreSQL as one atomic batch.
///
/// The file is streamed once: each record is validated and its ids mapped to dense internal ids in
/// memory. Events of users first seen in this batch cannot collide with stored ones: while they arrive
/// in key order they are copied straight into `interactions` as the file is read (`InOrderStream`);
/// the rest are sorted by primary key and de-duplicated on the client in bounded memory
/// (`SortedEventSpool`) and then appended in index order, or, for users that may already have those
/// events, passed through a staging table and `ON CONFLICT DO NOTHING`. Everything happens in one
/// transaction, so a crash at any point leaves nothing behind, and re-running completes the batch.
public final class Ingestor {
    private let db: PostgresConnection

    /// Serialises ingests: ids are assigned client-side from the current maximum.
    static let lockKey = 0x506C_6561_7402

    public init(db: PostgresConnection) { self.db = db }

    /// Ingests `file` (`-` is standard input; gzip and zstd are read directly) with its item file, if any.
    public func ingest(file: String, options: IngestOptions) throws -> IngestReport {
        let started = Date()
        // Both inputs are opened first, so that a missing one stops the run before anything happens.
        let input = try InputFile(path: file)
        let itemsInput = try options.itemsFile.map { try InputFile(path: $0) }
        var report = IngestReport(status: .committed, source: file, sha256: "")
        var phaseStart = started
        func endPhase(_ name: String) {
            let now = Date()
            report.phaseSeconds[name, default: 0] += now.timeIntervalSince(phaseStart)
            phaseStart = now
        }

        do { try db.transaction {
            try db.execute("SELECT pg_advisory_xact_lock(\(Self.lockKey))")
            let batch = try db.query("""
                INSERT INTO ingest_batches (source, format, sha256, items_source, status, started_at)
                VALUES ($1, $2, '', $3, 'committed', now()) RETURNING id
                """, [.text(file), .text(options.format.rawValue), .text(options.itemsFile)]).int(0, 0)!
            report.batchId = batch

            var catalogue = Catalogue(users: try loadIdMap("users"), items: try loadIdMap("items"),
                                      events: try loadIdMap("event_types", limit: IngestLimits.maxEventTypes))
            let rejects = try RejectSpool(batch: batch)
            let spool = SortedEventSpool()
            var descriptions: [(Int32, ItemCatalogReader.ItemRecord)] = []
            var itemsSHA: String? = nil
            if let itemsInput {
                descriptions = try readItemMetadata(itemsInput, format: options.itemsFormat ?? options.format,
                                                    mapping: options.mapping, catalogue: &catalogue, rejects: rejects)
                itemsSHA = try itemsInput.finish()
                report.itemRowsRejected = rejects.count
            }

            // Read the file; events in key order go straight to the table meanwhile, the rest to the spool.
            report.firstLoad = try InteractionPartitions.prepareFirstLoad(db)
            try db.execute("SAVEPOINT before_events")
            var stream = InOrderStream(firstNewUser: catalogue.users.firstNewId)
            try db.copyIn("COPY interactions \(Self.columns) FROM STDIN (FORMAT binary)") { writer in
                writer.binaryHeader()
                report.rowsRead = try readInteractions(input, options: options, catalogue: &catalogue, rejects: rejects) { event in
                    switch stream.route(event) {
                    case .stream: try Self.send(event, batch: batch, to: writer)
                    case .spool: try spool.append(event)
                    case .duplicate: break
                    }
                }
                writer.binaryTrailer()
            }
            // The hash of what was parsed; a regular file that changed meanwhile stops the batch here.
            let sha = try input.finish()
            report.sha256 = sha
            endPhase("read")
            let previous = try db.query("""
                SELECT id FROM ingest_batches
                WHERE status = 'committed' AND sha256 = $1 AND items_sha256 IS NOT DISTINCT FROM $2
                ORDER BY id LIMIT 1
                """, [.text(sha), .text(itemsSHA)])
            if let id = previous.int(0, 0) {
                let phases = report.phaseSeconds
                report = IngestReport(status: .alreadyIngested, batchId: id, source: file, sha256: sha,
                                      message: "already ingested as batch \(id)")
                report.phaseSeconds = phases
                throw AlreadyIngested()  // roll back everything this run did
            }
            _ = try db.query("UPDATE ingest_batches SET sha256 = $2, items_sha256 = $3 WHERE id = $1", [.int(batch), .text(sha), .text(itemsSHA)])
            report.rowsRejected = rejects.count - report.itemRowsRejected
            for (kind, count) in rejects.byKind { report.rejectsByKind[kind.rawValue] = count }

            let rejectRate = report.rowsRead > 0 ? Double(report.rowsRejected) / Double(report.rowsRead) : 0
            if rejectRate > options.maxRejectRate {
                try db.execute("ROLLBACK TO SAVEPOINT before_events")
                report.status = .aborted
                report.message = String(format: "%.2f%% of rows were rejected, above --max-reject-rate %.2f%%: no interactions stored",
                                        rejectRate * 100, options.maxRejectRate * 100)
            } else {
                try spool.finish()
                try storeCatalogue(catalogue, batch: batch)
                let (loaded, duplicates) = try storeSpooled(spool, mayCollideThroughUser: stream.mayCollideThroughUser, batch: batch)
                report.rowsLoaded = stream.streamed + loaded
                report.duplicates = stream.duplicates + duplicates
                report.itemsDescribed = try storeItemMetadata(descriptions, batch: batch)
                report.newUsers = catalogue.users.newCount
                report.newItems = catalogue.items.newCount
            }
            try rejects.store(into: db)
            report.seconds = Date().timeIntervalSince(started)
            _ = try db.query("""
                UPDATE ingest_batches SET status = $2, rows_read = $3, rows_loaded = $4, rows_rejected = $5,
                    duplicates = $6, new_users = $7, new_items = $8, items_described = $9, message = $10,
                    finished_at = clock_timestamp(), seconds = $11
                WHERE id = $1
                """, [.int(batch), .text(report.status.rawValue), .int(report.rowsRead), .int(report.rowsLoaded),
                      .int(report.rowsRejected), .int(report.duplicates), .int(report.newUsers),
                      .int(report.newItems), .int(report.itemsDescribed), .text(report.message), .double(report.seconds)])
            endPhase("store")
        } } catch is AlreadyIngested {}
        endPhase("commit")
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// External → internal ids of everything the batch may touch.
    struct Catalogue {
        var users: IdMap
        var items: IdMap
        var events: IdMap
    }

    // MARK: Reading

    private func loadIdMap(_ table: String, limit: Int = IngestLimits.maxIds) throws -> IdMap {
        let nameColumn = table == "event_types" ? "name" : "external_id"
        let count = try db.query("SELECT count(*) FROM \(table)").int(0, 0) ?? 0
        var map = IdMap(capacity: count + 1024, limit: limit)
        try db.copyOutBinary("COPY \(table) (id, \(nameColumn)) TO STDOUT (FORMAT binary)") { fields in
            let id: Int32 = fields[0]!.count == 2 ? Int32(fields[0]!.loadBigEndian(Int16.self)) : fields[0]!.loadBigEndian(Int32.self)
            map.preload(fields[1]!, id: id)
        }
        return map
    }

    /// Parses the interaction input, handing valid events to `accept` and bad rows to the reject spool;
    /// returns the number of rows read.
    private func readInteractions(_ input: InputFile, options: IngestOptions, catalogue: inout Catalogue, rejects: RejectSpool,
                                  accept: (PendingEvent) throws -> Void) throws -> Int {
        let reader = InteractionReader(input: input, format: options.format, mapping: options.mapping)
        let progress = ProgressLine("ingest \((input.name as NSString).lastPathComponent)", unit: "rows", enabled: options.showProgress)
        var defaultEventId: Int16? = nil
        try reader.read(progress: { bytes in
            progress.update(done: reader.rowsRead, fraction: input.size.map { $0 > 0 ? Double(bytes) / Double($0) : 1 })
        }, event: { line, event in
            let eventId: Int16
            if let name = event.event {
                guard let id = catalogue.events.id(for: name) else {
                    return RowRejection(.tooManyEventTypes, "a new event type past the limit of \(IngestLimits.maxEventTypes)")
                }
                eventId = Int16(id)
            } else {
                if defaultEventId == nil {
                    var name = reader.defaultEvent
                    defaultEventId = name.withUTF8 { catalogue.events.id(for: $0) }.map(Int16.init)
                }
                guard let id = defaultEventId else {
                    return RowRejection(.tooManyEventTypes, "the default event type is past the limit of \(IngestLimits.maxEventTypes)")
                }
                eventId = id
            }
            guard let user = catalogue.users.id(for: event.user), let item = catalogue.items.id(for: event.item) else {
                return RowRejection(.tooManyIds, "a new user or item past the limit of \(IngestLimits.maxIds)")
            }
            try accept(PendingEvent(micros: event.unixMicros, line: Int64(line), user: user, item: item, value: event.value ?? .nan,
                                    event: eventId))
            return nil
        }, reject: { line, raw, rejection in
            try rejects.add(source: input.name, line: line, raw: raw, rejection: rejection)
        })
        progress.finish()
        return reader.rowsRead
    }

    /// Reads item descriptions (the last one of an item wins), adding unseen items to the catalogue.
    private func readItemMetadata(_ input: InputFile, format: InteractionFormat, mapping: ColumnMapping, catalogue: inout Catalogue,
                                  rejects: RejectSpool) throws -> [(Int32, ItemCatalogReader.ItemRecord)] {
        guard format != .pairs && format != .sequences else { throw IngestError("\(input.name): give the item file's format with --items-format") }
        let reader = ItemCatalogReader(input: input, format: format, itemColumn: mapping.item, categoryColumn: mapping.category)
        var latest: [Int32: ItemCatalogReader.ItemRecord] = [:]
        var order: [Int32] = []
        try reader.read(item: { record in
            var key = record.externalId
            guard let id = key.withUTF8({ catalogue.items.id(for: $0) }) else {
                return RowRejection(.tooManyIds, "a new item past the limit of \(IngestLimits.maxIds)")
            }
            if latest.updateValue(record, forKey: id) == nil { order.append(id) }
            return nil
        }, reject: { line, raw, rejection in
            try rejects.add(source: input.name, line: line, raw: raw, rejection: rejection)
        })
        return order.map { ($0, latest[$0]!) }
    }

    // MARK: Storing

    /// Inserts the users, items and event types first seen in this batch.
    private func storeCatalogue(_ catalogue: Catalogue, batch: Int) throws {
        for (table, map) in [("users", catalogue.users), ("items", catalogue.items)] where map.newCount > 0 {
            try db.copyIn("COPY \(table) (id, external_id, batch_id) FROM STDIN (FORMAT binary)") { writer in
                writer.binaryHeader()
                try map.forEachNew { key, id in
                    try writer.beginRow(fields: 3)
                    writer.int32(id)
                    writer.bytes(UnsafeRawBufferPointer(key))
                    writer.int32(Int32(batch))
                }
                writer.binaryTrailer()
            }
        }
        guard catalogue.events.newCount > 0 else { return }
        try db.copyIn("COPY event_types (id, name) FROM STDIN (FORMAT binary)") { writer in
            writer.binaryHeader()
            try catalogue.events.forEachNew { name, id in
                try writer.beginRow(fields: 2)
                writer.int16(Int16(id))
                writer.bytes(UnsafeRawBufferPointer(name))
            }
            writer.binaryTrailer()
        }
    }

    static let columns = "(user_id, occurred_at, item_id, event_type, value, batch_id)"

    @inline(__always)
    static func send(_ e: PendingEvent, batch: Int, to writer: CopyInWriter) throws {
        try writer.beginRow(fields: 6)
        writer.int32(e.user)
        writer.timestamp(unixMicros: e.micros)
        writer.int32(e.item)
        writer.int16(e.event)
        if e.value.isNaN { writer.null() } else { writer.float4(e.value) }
        writer.int32(Int32(batch))
    }

    /// Stores the spool's distinct events; returns (rows loaded, duplicates skipped). Events of users up
    /// to `mayCollideThroughUser` may already be stored and go through `ON CONFLICT DO NOTHING`; the
    /// others are appended with COPY in key order.
    private func storeSpooled(_ spool: SortedEventSpool, mayCollideThroughUser limit: Int32, batch: Int) throws -> (Int, Int) {
        guard spool.count > 0 else { return (0, 0) }
        var mayCollide = 0
        try db.execute("CREATE TEMP TABLE ingest_staging (LIKE interactions) ON COMMIT DROP")
        try db.copyIn("COPY ingest_staging \(Self.columns) FROM STDIN (FORMAT binary)") { writer in
            writer.binaryHeader()
            try spool.forEachUnique { e in
                if e.user <= limit { try Self.send(e, batch: batch, to: writer); mayCollide += 1 }
            }
            writer.binaryTrailer()
        }
        let collisionFree = mayCollide == 0 ? 0 : try db.execute(
            "INSERT INTO interactions SELECT * FROM ingest_staging ON CONFLICT DO NOTHING")
        var appended = 0
        var inBatchDuplicates = 0
        try db.copyIn("COPY interactions \(Self.columns) FROM STDIN (FORMAT binary)") { writer in
            writer.binaryHeader()
            inBatchDuplicates = try spool.forEachUnique { e in
                if e.user > limit { try Self.send(e, batch: batch, to: writer); appended += 1 }
            }
            writer.binaryTrailer()
        }
        return (collisionFree + appended, inBatchDuplicates + (mayCollide - collisionFree))
    }

    private func storeItemMetadata(_ descriptions: [(Int32, ItemCatalogReader.ItemRecord)], batch: Int) throws -> Int {
        guard !descriptions.isEmpty else { return 0 }
        try db.execute("CREATE TEMP TABLE item_staging (item_id integer, title text, genres text[]) ON COMMIT DROP")
        try db.copyIn("COPY item_staging FROM STDIN (FORMAT binary)") { writer in
            writer.binaryHeader()
            for (id, record) in descriptions {
                try writer.beginRow(fields: 3)
                writer.int32(id)
                if let title = record.title { writer.text(title) } else { writer.null() }
                writer.textArray(record.genres)
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

private struct AlreadyIngested: Error {}
