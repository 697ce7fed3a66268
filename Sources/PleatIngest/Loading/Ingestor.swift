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
        // Both inputs are opened first, so that a missing one stops the run before anything happens.
        let input = try InputFile(path: file)
        let itemsInput = try options.itemsFile.map { try InputFile(path: $0) }
        var run = Run(report: IngestReport(status: .committed, source: file, sha256: ""))
        do {
            try db.transaction { try load(input, itemsInput: itemsInput, options: options, run: &run) }
        } catch is AlreadyIngested {}
        run.endPhase("commit")
        run.report.seconds = Date().timeIntervalSince(run.started)
        return run.report
    }

    /// The batch in the making: its report and the clock of its phases.
    struct Run {
        var report: IngestReport
        let started = Date()
        private var phaseStart = Date()

        init(report: IngestReport) { self.report = report }

        mutating func endPhase(_ name: String) {
            let now = Date()
            report.phaseSeconds[name, default: 0] += now.timeIntervalSince(phaseStart)
            phaseStart = now
        }
    }

    /// The stages, inside the batch's transaction: ids known so far, the item file, the interactions
    /// (read, parsed, validated, mapped to ids, and streamed or spooled), then the writes.
    private func load(_ input: InputFile, itemsInput: InputFile?, options: IngestOptions, run: inout Run) throws {
        let batch = try tables.beginBatch(source: run.report.source, format: options.format.rawValue, itemsSource: options.itemsFile)
        run.report.batchId = batch
        let reader = InteractionReader(input: input, format: options.format, mapping: options.mapping)
        var mapper = EventMapper(catalogue: Catalogue(users: try loadIdMap(.users), items: try loadIdMap(.items),
                                                      events: try loadIdMap(.eventTypes, limit: IngestLimits.maxEventTypes)),
                                 defaultEvent: { reader.defaultEvent })
        let rejects = try RejectSpool(batch: batch)
        var descriptions: [(Int32, ItemCatalogReader.ItemRecord)] = []
        var itemsSHA: String? = nil
        if let itemsInput {
            descriptions = try readItemMetadata(itemsInput, format: options.itemsFormat ?? options.format, mapping: options.mapping,
                                                mapper: &mapper, rejects: rejects)
            itemsSHA = try itemsInput.finish()
            run.report.itemRowsRejected = rejects.count
        }

        run.report.firstLoad = try InteractionPartitions.prepareFirstLoad(db)
        try tables.markBeforeEvents()
        let (stream, spool) = try readEvents(reader, mapper: &mapper, rejects: rejects, batch: batch, showProgress: options.showProgress)
        run.report.rowsRead = reader.rowsRead
        // The hash of what was parsed; a regular file that changed meanwhile stops the batch here.
        let sha = try input.finish()
        run.report.sha256 = sha
        run.endPhase("read")
        if let id = try tables.committedBatch(sha256: sha, itemsSHA256: itemsSHA) {
            run.report = IngestReport(status: .alreadyIngested, batchId: id, source: run.report.source, sha256: sha,
                                      message: "already ingested as batch \(id)", phaseSeconds: run.report.phaseSeconds)
            throw AlreadyIngested()  // roll back everything this run did
        }
        try tables.setHashes(batch: batch, sha256: sha, itemsSHA256: itemsSHA)
        run.report.rowsRejected = rejects.count - run.report.itemRowsRejected
        run.report.rejectsByKind = rejects.byKind
        run.report.firstRejects = rejects.first

        let rejectRate = run.report.rowsRead > 0 ? Double(run.report.rowsRejected) / Double(run.report.rowsRead) : 0
        if rejectRate > options.maxRejectRate {
            try tables.rollbackEvents()
            run.report.status = .aborted
            run.report.message = String(format: "%.2f%% of rows were rejected, above --max-reject-rate %.2f%%: no interactions stored",
                                        rejectRate * 100, options.maxRejectRate * 100)
        } else {
            try spool.finish()
            try storeCatalogue(mapper.catalogue, batch: batch)
            let (loaded, duplicates) = try storeSpooled(spool, mayCollideThroughUser: stream.mayCollideThroughUser, batch: batch)
            run.report.rowsLoaded = stream.streamed + loaded
            run.report.duplicates = stream.duplicates + duplicates
            run.report.itemsDescribed = try storeItemMetadata(descriptions, batch: batch)
            run.report.newUsers = mapper.catalogue.users.newCount
            run.report.newItems = mapper.catalogue.items.newCount
        }
        try rejects.store(into: db)
        run.report.seconds = Date().timeIntervalSince(run.started)
        let report = run.report
        try tables.finish(batch: batch, IngestTables.Outcome(
            status: report.status.rawValue, rowsRead: report.rowsRead, rowsLoaded: report.rowsLoaded, rowsRejected: report.rowsRejected,
            duplicates: report.duplicates, newUsers: report.newUsers, newItems: report.newItems, itemsDescribed: report.itemsDescribed,
            message: report.message, seconds: report.seconds))
        run.endPhase("store")
    }

    // MARK: Reading

    private func loadIdMap(_ table: IngestTables.IdTable, limit: Int = IngestLimits.maxIds) throws -> IdMap {
        var map = IdMap(capacity: try tables.count(table) + 1024, limit: limit)
        try tables.forEachId(table) { id, name in map.preload(name, id: id) }
        return map
    }

    /// Reads the interactions through the mapper: events of new users that arrive in key order go
    /// straight to `interactions` in a COPY that runs while the file is read, the others to the spool,
    /// and rejected rows to `rejects`.
    private func readEvents(_ reader: InteractionReader, mapper: inout EventMapper, rejects: RejectSpool, batch: Int,
                            showProgress: Bool) throws -> (InOrderStream, SortedEventSpool) {
        let input = reader.input
        let progress = ProgressLine("ingest \((input.name as NSString).lastPathComponent)", unit: "rows", enabled: showProgress)
        var stream = InOrderStream(firstNewUser: mapper.catalogue.users.firstNewId)
        let spool = SortedEventSpool()
        try tables.copyEvents { writer in
            try reader.read(progress: { bytes in
                progress.update(done: reader.rowsRead, fraction: input.size.map { $0 > 0 ? Double(bytes) / Double($0) : 1 })
            }, event: { line, fields in
                switch mapper.map(fields, line: line) {
                case .failure(let rejection): return rejection
                case .success(let event):
                    switch stream.route(event) {
                    case .stream: try Self.send(event, batch: batch, to: writer)
                    case .spool: try spool.append(event)
                    case .duplicate: break
                    }
                    return nil
                }
            }, reject: { line, raw, rejection in
                try rejects.add(source: input.name, line: line, raw: raw, rejection: rejection)
            })
        }
        progress.finish()
        return (stream, spool)
    }

    /// Reads item descriptions (the last one of an item wins), adding unseen items to the catalogue.
    private func readItemMetadata(_ input: InputFile, format: InteractionFormat, mapping: ColumnMapping, mapper: inout EventMapper,
                                  rejects: RejectSpool) throws -> [(Int32, ItemCatalogReader.ItemRecord)] {
        guard format != .pairs && format != .sequences else { throw IngestError("\(input.name): give the item file's format with --items-format") }
        let reader = ItemCatalogReader(input: input, format: format, itemColumn: mapping.item, categoryColumn: mapping.category)
        var latest: [Int32: ItemCatalogReader.ItemRecord] = [:]
        var order: [Int32] = []
        try reader.read(item: { record in
            switch mapper.item(record.externalId) {
            case .failure(let rejection): return rejection
            case .success(let id):
                if latest.updateValue(record, forKey: id) == nil { order.append(id) }
                return nil
            }
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
                                     batch: Int32(batch), partition: e.partition)
    }

    /// Stores the spool's distinct events; returns (rows loaded, duplicates skipped). Events of users up
    /// to `mayCollideThroughUser` may already be stored and go through `ON CONFLICT DO NOTHING`; the
    /// others are appended with COPY in key order.
    private func storeSpooled(_ spool: SortedEventSpool, mayCollideThroughUser limit: Int32, batch: Int) throws -> (Int, Int) {
        guard spool.count > 0 else { return (0, 0) }
        var mayCollide = 0
        let collisionFree = try tables.insertEventsSkippingStored { writer in
            try spool.forEachUnique { e in
                if e.user <= limit { try Self.send(e, batch: batch, to: writer); mayCollide += 1 }
            }
        }
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
