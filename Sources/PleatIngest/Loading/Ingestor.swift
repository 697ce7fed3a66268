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
    private let tables: IngestTables

    public init(db: PostgresConnection) { (self.db, tables) = (db, IngestTables(db)) }

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
            let batch = try tables.beginBatch(source: file, format: options.format.rawValue, itemsSource: options.itemsFile)
            report.batchId = batch

            var catalogue = Catalogue(users: try loadIdMap(.users), items: try loadIdMap(.items),
                                      events: try loadIdMap(.eventTypes, limit: IngestLimits.maxEventTypes))
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
            try tables.markBeforeEvents()
            var stream = InOrderStream(firstNewUser: catalogue.users.firstNewId)
            try tables.copyEvents { writer in
                report.rowsRead = try readInteractions(input, options: options, catalogue: &catalogue, rejects: rejects) { event in
                    switch stream.route(event) {
                    case .stream: try Self.send(event, batch: batch, to: writer)
                    case .spool: try spool.append(event)
                    case .duplicate: break
                    }
                }
            }
            // The hash of what was parsed; a regular file that changed meanwhile stops the batch here.
            let sha = try input.finish()
            report.sha256 = sha
            endPhase("read")
            if let id = try tables.committedBatch(sha256: sha, itemsSHA256: itemsSHA) {
                let phases = report.phaseSeconds
                report = IngestReport(status: .alreadyIngested, batchId: id, source: file, sha256: sha,
                                      message: "already ingested as batch \(id)")
                report.phaseSeconds = phases
                throw AlreadyIngested()  // roll back everything this run did
            }
            try tables.setHashes(batch: batch, sha256: sha, itemsSHA256: itemsSHA)
            report.rowsRejected = rejects.count - report.itemRowsRejected
            for (kind, count) in rejects.byKind { report.rejectsByKind[kind.rawValue] = count }

            let rejectRate = report.rowsRead > 0 ? Double(report.rowsRejected) / Double(report.rowsRead) : 0
            if rejectRate > options.maxRejectRate {
                try tables.rollbackEvents()
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
            try tables.finish(batch: batch, IngestTables.Outcome(
                status: report.status.rawValue, rowsRead: report.rowsRead, rowsLoaded: report.rowsLoaded, rowsRejected: report.rowsRejected,
                duplicates: report.duplicates, newUsers: report.newUsers, newItems: report.newItems, itemsDescribed: report.itemsDescribed,
                message: report.message, seconds: report.seconds))
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

    private func loadIdMap(_ table: IngestTables.IdTable, limit: Int = IngestLimits.maxIds) throws -> IdMap {
        var map = IdMap(capacity: try tables.count(table) + 1024, limit: limit)
        try tables.forEachId(table) { id, name in map.preload(name, id: id) }
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
        return order.compactMap { id in latest[id].map { (id, $0) } }
    }

    // MARK: Storing

    /// Inserts the users, items and event types first seen in this batch.
    private func storeCatalogue(_ catalogue: Catalogue, batch: Int) throws {
        for (table, map) in [(IngestTables.IdTable.users, catalogue.users), (.items, catalogue.items), (.eventTypes, catalogue.events)]
        where map.newCount > 0 {
            try tables.insertIds(table, batch: batch) { row in try map.forEachNew { key, id in try row(key, id) } }
        }
    }

    @inline(__always)
    static func send(_ e: PendingEvent, batch: Int, to writer: CopyInWriter) throws {
        try IngestTables.appendEvent(to: writer, user: e.user, unixMicros: e.micros, item: e.item, event: e.event, value: e.value,
                                     batch: Int32(batch))
    }

    /// Stores the spool's distinct events; returns (rows loaded, duplicates skipped). Events of users up
    /// to `mayCollideThroughUser` may already be stored and go through `ON CONFLICT DO NOTHING`; the
    /// others are appended with COPY in key order.
    private func storeSpooled(_ spool: SortedEventSpool, mayCollideThroughUser limit: Int32, batch: Int) throws -> (Int, Int) {
        guard spool.count > 0 else { return (0, 0) }
        var mayCollide = 0
        let inserted = try tables.insertEventsSkippingStored { writer in
            try spool.forEachUnique { e in
                if e.user <= limit { try Self.send(e, batch: batch, to: writer); mayCollide += 1 }
            }
        }
        let collisionFree = mayCollide == 0 ? 0 : inserted
        var appended = 0
        var inBatchDuplicates = 0
        try tables.copyEvents { writer in
            inBatchDuplicates = try spool.forEachUnique { e in
                if e.user > limit { try Self.send(e, batch: batch, to: writer); appended += 1 }
            }
        }
        return (collisionFree + appended, inBatchDuplicates + (mayCollide - collisionFree))
    }

    private func storeItemMetadata(_ descriptions: [(Int32, ItemCatalogReader.ItemRecord)], batch: Int) throws -> Int {
        guard !descriptions.isEmpty else { return 0 }
        return try tables.upsertItemMetadata(batch: batch) { row in
            for (id, record) in descriptions { try row(id, record.title, record.genres) }
        }
    }
}

private struct AlreadyIngested: Error {}
