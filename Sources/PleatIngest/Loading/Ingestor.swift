import Foundation
import PleatCore
import PleatStorage

/// Loads one interaction file (and optionally its item metadata) into PostgreSQL as one atomic batch.
///
/// The file is streamed once: each record is validated and its ids mapped to dense internal ids in
/// memory, then sent with binary COPY to a temporary staging table. Set-based statements then move
/// new users/items and de-duplicated interactions into place, and the batch commits as a whole.
/// A crash at any point before COMMIT leaves nothing behind, so re-running completes the batch.
public final class Ingestor {
    private let db: PostgresConnection

    /// Serialises ingests: ids are assigned client-side from the current maximum.
    static let lockKey = 0x506C_6561_7402

    public init(db: PostgresConnection) { self.db = db }

    public func ingest(file: String, options: IngestOptions) throws -> IngestReport {
        let started = Date()
        guard FileManager.default.isReadableFile(atPath: file) else { throw IngestError("cannot read \(file)") }
        if let items = options.itemsFile, !FileManager.default.isReadableFile(atPath: items) {
            throw IngestError("cannot read \(items)")
        }
        let sha = try Self.sha256(ofFile: file)
        let itemsSHA = try options.itemsFile.map(Self.sha256(ofFile:))
        var report = IngestReport(status: .committed, source: file, sha256: sha)

        try db.transaction {
            try db.execute("SELECT pg_advisory_xact_lock(\(Self.lockKey))")
            let previous = try db.query("""
                SELECT id FROM ingest_batches
                WHERE status = 'committed' AND sha256 = $1 AND items_sha256 IS NOT DISTINCT FROM $2
                ORDER BY id LIMIT 1
                """, [sha, itemsSHA])
            if let id = previous.int(0, 0) {
                report.status = .alreadyIngested
                report.batchId = id
                report.message = "already ingested as batch \(id)"
                return
            }
            let batch = try db.query("""
                INSERT INTO ingest_batches (source, format, sha256, items_source, items_sha256, status, started_at)
                VALUES ($1, $2, $3, $4, $5, 'committed', now()) RETURNING id
                """, [file, options.format.rawValue, sha, options.itemsFile, itemsSHA]).int(0, 0)!
            report.batchId = batch

            var users = try loadIdMap("users")
            var items = try loadIdMap("items")
            var events = try loadIdMap("event_types")
            try createStaging()

            if let itemsFile = options.itemsFile {
                try stageItemMetadata(itemsFile, format: options.itemsFormat ?? options.format, mapping: options.mapping,
                                      items: &items, batch: batch, report: &report)
            }
            try stageInteractions(file, options: options, users: &users, items: &items, events: &events, report: &report)

            let rejectRate = report.rowsRead > 0 ? Double(report.rowsRejected) / Double(report.rowsRead) : 0
            if rejectRate > options.maxRejectRate {
                report.status = .aborted
                report.message = String(format: "%.2f%% of rows were rejected, above --max-reject-rate %.2f%%: no interactions stored",
                                        rejectRate * 100, options.maxRejectRate * 100)
                report.rowsLoaded = 0
                report.newUsers = 0
                report.newItems = 0
                report.itemsDescribed = 0
            } else {
                try storeCatalogue(users: users, items: items, events: events, batch: batch)
                try db.execute("SET LOCAL work_mem = '256MB'")
                report.rowsLoaded = try db.execute("""
                    INSERT INTO interactions (user_id, occurred_at, item_id, event_type, value, batch_id)
                    SELECT user_id, occurred_at, item_id, event_type, value, \(batch)
                    FROM ingest_staging WHERE reason IS NULL
                    ORDER BY user_id, occurred_at, item_id, event_type, line
                    ON CONFLICT DO NOTHING
                    """)
                report.duplicates = report.rowsRead - report.rowsRejected - report.rowsLoaded
                report.itemsDescribed = try db.execute("""
                    INSERT INTO item_metadata (item_id, title, category, genres, batch_id)
                    SELECT item_id, title, genres[1], genres, \(batch) FROM item_staging
                    ON CONFLICT (item_id) DO UPDATE
                    SET title = EXCLUDED.title, category = EXCLUDED.category, genres = EXCLUDED.genres, batch_id = EXCLUDED.batch_id
                    """)
            }
            try db.execute("""
                INSERT INTO rejected_rows (batch_id, source, line_number, raw, reason)
                SELECT \(batch), source, line, raw, reason FROM ingest_staging WHERE reason IS NOT NULL
                """)
            report.seconds = Date().timeIntervalSince(started)
            _ = try db.query("""
                UPDATE ingest_batches SET status = $2, rows_read = $3, rows_loaded = $4, rows_rejected = $5,
                    duplicates = $6, new_users = $7, new_items = $8, items_described = $9, message = $10,
                    finished_at = clock_timestamp(), seconds = $11
                WHERE id = $1
                """, [String(batch), report.status.rawValue, String(report.rowsRead), String(report.rowsLoaded),
                      String(report.rowsRejected), String(report.duplicates), String(report.newUsers),
                      String(report.newItems), String(report.itemsDescribed), report.message, String(report.seconds)])
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    // MARK: Steps

    private func createStaging() throws {
        try db.execute("""
            CREATE TEMP TABLE ingest_staging (
                line bigint, user_id integer, item_id integer, occurred_at timestamptz, event_type smallint,
                value real, source text, reason text, raw bytea
            ) ON COMMIT DROP;
            CREATE TEMP TABLE item_staging (item_id integer, title text, genres text[]) ON COMMIT DROP;
            """)
    }

    private func loadIdMap(_ table: String) throws -> IdMap {
        let nameColumn = table == "event_types" ? "name" : "external_id"
        let count = try db.query("SELECT count(*) FROM \(table)").int(0, 0) ?? 0
        var map = IdMap(capacity: count + 1024)
        try db.copyOutBinary("COPY \(table) (id, \(nameColumn)) TO STDOUT (FORMAT binary)") { fields in
            let id: Int32 = fields[0]!.count == 2 ? Int32(fields[0]!.loadBigEndian(Int16.self)) : fields[0]!.loadBigEndian(Int32.self)
            map.preload(fields[1]!, id: id)
        }
        return map
    }

    private func stageInteractions(_ file: String, options: IngestOptions, users: inout IdMap, items: inout IdMap,
                                   events: inout IdMap, report: inout IngestReport) throws {
        let parser = EventParser(format: options.format, mapping: options.mapping, file: file)
        let reader = RecordReader(path: file, quoteAware: options.format == .csv)
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        let progress = ProgressLine("ingest \((file as NSString).lastPathComponent)", unit: "rows", enabled: options.showProgress)
        var pendingHeader = parser.needsHeader
        var rowsRead = 0
        var rejectsByKind: [RowRejection.Kind: Int] = [:]
        var defaultEventId: Int16? = nil
        let source = file

        _ = try db.copyIn("COPY ingest_staging FROM STDIN (FORMAT binary)") { writer in
            writer.binaryHeader()
            try reader.forEachRecord(chunk: { bytes in
                progress.update(done: rowsRead, fraction: fileSize > 0 ? Double(bytes) / Double(fileSize) : nil)
            }) { line, record in
                if pendingHeader {
                    pendingHeader = false
                    try parser.readHeader(record)
                    return
                }
                rowsRead += 1
                let rejection = try parser.parse(line: line, record: record) { event in
                    let eventId: Int16
                    if let name = event.event { eventId = Int16(events.id(for: name)) } else {
                        if defaultEventId == nil {
                            var name = parser.defaultEvent
                            defaultEventId = name.withUTF8 { Int16(events.id(for: $0)) }
                        }
                        eventId = defaultEventId!
                    }
                    try writer.beginRow(fields: 9)
                    writer.int64(Int64(line))
                    writer.int32(users.id(for: event.user))
                    writer.int32(items.id(for: event.item))
                    writer.timestamp(unixMicros: event.unixMicros)
                    writer.int16(eventId)
                    if let value = event.value { writer.float4(value) } else { writer.null() }
                    writer.null(); writer.null(); writer.null()
                }
                if let rejection {
                    rejectsByKind[rejection.kind, default: 0] += 1
                    try writer.beginRow(fields: 9)
                    writer.int64(Int64(line))
                    for _ in 0..<5 { writer.null() }
                    writer.text(source)
                    writer.text(rejection.reason)
                    writer.bytes(UnsafeRawBufferPointer(record))
                }
            }
            writer.binaryTrailer()
        }
        progress.finish()
        if pendingHeader { throw IngestError("\(file) is empty: no header line") }
        report.rowsRead = rowsRead
        report.rowsRejected = rejectsByKind.values.reduce(0, +)
        for (kind, count) in rejectsByKind { report.rejectsByKind[kind.rawValue] = count }
        report.newUsers = users.newCount
        report.newItems = items.newCount
    }

    private func stageItemMetadata(_ file: String, format: InteractionFormat, mapping: ColumnMapping, items: inout IdMap,
                                   batch: Int, report: inout IngestReport) throws {
        guard format != .pairs else { throw IngestError("\(file): give the item file's format with --items-format") }
        let reader = ItemCatalogReader(path: file, format: format, itemColumn: mapping.item)
        var latest: [Int32: ItemCatalogReader.ItemRecord] = [:]  // the last description of an item wins
        var order: [Int32] = []
        var rejected: [(Int, [UInt8], RowRejection)] = []
        try reader.read(item: { record in
            var key = record.externalId
            let id = key.withUTF8 { items.id(for: $0) }
            if latest.updateValue(record, forKey: id) == nil { order.append(id) }
        }, reject: { line, raw, rejection in
            rejected.append((line, Array(raw), rejection))
        })
        _ = try db.copyIn("COPY item_staging FROM STDIN (FORMAT binary)") { writer in
            writer.binaryHeader()
            for id in order {
                let record = latest[id]!
                try writer.beginRow(fields: 3)
                writer.int32(id)
                if let title = record.title { writer.text(title) } else { writer.null() }
                writer.textArray(record.genres)
            }
            writer.binaryTrailer()
        }
        _ = try db.copyIn("COPY ingest_staging (line, source, reason, raw) FROM STDIN (FORMAT binary)") { writer in
            writer.binaryHeader()
            for (line, raw, rejection) in rejected {
                try writer.beginRow(fields: 4)
                writer.int64(Int64(line))
                writer.text(file)
                writer.text(rejection.reason)
                raw.withUnsafeBytes { writer.bytes($0) }
            }
            writer.binaryTrailer()
        }
        report.itemRowsRejected = rejected.count
    }

    /// Inserts the users, items and event types first seen in this batch.
    private func storeCatalogue(users: IdMap, items: IdMap, events: IdMap, batch: Int) throws {
        for (table, map) in [("users", users), ("items", items)] where map.newCount > 0 {
            _ = try db.copyIn("COPY \(table) (id, external_id, batch_id) FROM STDIN (FORMAT binary)") { writer in
                writer.binaryHeader()
                try map.forEachNew { key, id in
                    try writer.beginRow(fields: 3)
                    writer.int32(id)
                    writer.bytes(UnsafeRawBufferPointer(key))
                    writer.int64(Int64(batch))
                }
                writer.binaryTrailer()
            }
        }
        try events.forEachNew { name, id in
            _ = try db.query("INSERT INTO event_types (id, name) VALUES ($1, $2)", [String(id), String(decoding: name, as: UTF8.self)])
        }
    }

    static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw IngestError("cannot read \(path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update(buffer: $0.bindMemory(to: UInt8.self)) }
        }
        return hasher.finalizeHex()
    }
}
