import Foundation
import PleatCore
import PleatIngest
import PleatScoring
import PleatStorage
import PleatTraining
import PleatModel
import PleatMetrics

/// A database of forward walks (as in TrainingJobTests) with two small trained models, one per test
/// that needs it (tests change the data). Users u0…u199 walk a catalogue of 100 items i0…i99.
public struct WalkFixture: @unchecked Sendable {  // one task at a time uses its connection
    public let url: String
    public let db: PostgresConnection
    public let directory: URL
    public let sasrec: ModelRecord
    public let hstu: ModelRecord
    public var cachePath: String { directory.appendingPathComponent("cache.sqlite").path }

    /// On a fresh database of the suite's server, or on the (migrated, empty) database at `url`.
    public init(url: String? = nil) throws {
        self.url = try url ?? TestDatabase.fresh()
        db = try PostgresConnection(url: self.url)
        directory = try TestDatabase.scratchDirectory()
        var rng = RandomSource(seed: 5)
        var csv = "user_id,item_id,timestamp\n"
        for user in 0..<200 {
            let start = rng.below(100)
            for t in 0..<20 { csv += "u\(user),i\(rng.uniform() < 0.1 ? rng.below(100) : (start + t) % 100),\(1_000 + 10 * t)\n" }
        }
        try Self.ingest(csv, name: "walks.csv", db: db, directory: directory)
        let (db, directory) = (db, directory)
        func train(_ kind: ModelKind) throws -> ModelRecord {
            var c = TrainingConfig(model: kind)
            (c.epochs, c.patience, c.batchSize, c.maxLength, c.seed, c.learningRate) = (3, 3, 32, 24, 7, 3e-3)
            (c.sasrec.encoder.dimension, c.sasrec.encoder.blocks) = (32, 1)
            (c.hstu.encoder.dimension, c.hstu.encoder.blocks, c.hstu.negatives) = (32, 1, 64)
            var job = TrainingJob(config: c, artifacts: directory.appendingPathComponent("models"))
            (job.showProgress, job.log) = (false, { _ in })
            return try job.run(db: db).record
        }
        sasrec = try train(.sasrec)
        hstu = try train(.hstu)
    }

    /// Ingests `csv` (and, with `items`, lines `item_id,category` of an item file).
    public func ingest(_ csv: String, name: String, items: [String]? = nil) throws {
        try Self.ingest(csv, name: name, db: db, directory: directory, items: items)
    }

    public static func ingest(_ csv: String, name: String, db: PostgresConnection, directory: URL, items: [String]? = nil) throws {
        let file = directory.appendingPathComponent(name).path
        try csv.write(toFile: file, atomically: true, encoding: .utf8)
        let itemFile = items.map { _ in directory.appendingPathComponent(name + ".items.csv").path }
        if let items, let itemFile {
            try (["item_id,category"] + items).joined(separator: "\n").appending("\n").write(toFile: itemFile, atomically: true, encoding: .utf8)
        }
        _ = try Ingestor(db: db).ingest(file: file, options: IngestOptions(format: .csv, itemsFile: itemFile))
    }

    /// The fixture's cache, or another file of its directory.
    public func cache(_ path: String? = nil) throws -> RecommendationCache {
        try RecommendationCache(path: path ?? cachePath, migrations: TestDatabase.migrationsDirectory.appendingPathComponent("sqlite"))
    }

    public func score(_ record: ModelRecord, users: BatchScorer.Users = .all, seen: SeenItems? = nil, topK: Int = 20,
                      shard: Shard = .all, cachePath: String? = nil) throws -> BatchScorer.Report {
        var scorer = BatchScorer()
        (scorer.topK, scorer.seen, scorer.users, scorer.showProgress, scorer.transactionSize) = (topK, seen, users, false, 64)
        scorer.shard = shard
        return try scorer.run(model: try ScoringModel.load(record, db: db, batchSize: 32), db: db, cache: try cache(cachePath))
    }

    public func remove() { try? FileManager.default.removeItem(at: directory) }
}
