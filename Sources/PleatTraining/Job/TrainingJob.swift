import Foundation
import PleatCore
import PleatStorage

/// `pleat train` as a library call: load the histories from PostgreSQL, split, train (or resume), write
/// the artifacts and register the model.
public struct TrainingJob {
    public var config: TrainingConfig
    /// Where runs live (`<artifacts>/<model id>/`).
    public var artifacts: URL
    /// Continue the newest unfinished run of this model kind (its stored config wins).
    public var resume = false
    public var showProgress = true
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public init(config: TrainingConfig, artifacts: URL) {
        self.config = config
        self.artifacts = artifacts
    }

    public struct Result: Sendable {
        public let outcome: TrainingOutcome
        public let record: ModelRecord
    }

    public func run(db: PostgresConnection) throws -> Result {
        let started = Date()
        var config = config, modelId: String, run: RunDirectory, snapshot: Int?
        if resume, let previous = RunDirectory.latestUnfinished(in: artifacts, kind: config.model) {
            run = previous
            modelId = previous.url.lastPathComponent
            config = try JSONDecoder.snakeCase.decode(TrainingConfig.self, from: Data(contentsOf: previous.configFile))
            if config != self.config { log("resuming \(modelId) with its stored config; the settings given now are not used") }
            snapshot = try JSONDecoder.snakeCase.decode(VocabularyFile.self, from: Data(contentsOf: previous.vocabularyFile)).snapshotBatch
        } else {
            if resume { log("nothing to resume for \(config.model.rawValue): starting a new run") }
            modelId = Self.newModelId(config.model)
            run = RunDirectory(artifacts.appendingPathComponent(modelId))
            snapshot = nil
        }
        try config.validate()

        let histories = try HistoryLoader.load(from: db, upToBatch: snapshot)
        let loadSeconds = Date().timeIntervalSince(started)
        log(String(format: "loaded %@ events of %@ users in %.2f s (data up to ingest batch %d)",
                   Format.count(histories.eventCount), Format.count(histories.userCount), loadSeconds, histories.snapshotBatch))
        let split = SequenceSplit(histories, minCount: config.minCount, cutoff: try config.cutoffSeconds())
        guard split.vocabulary.count > 0, split.sequences.indices.contains(where: { split.trainSequence($0).count >= 2 }) else {
            throw ConfigError(description: "no training data: ingest interactions first (every user needs at least 2 events)")
        }
        let foldKeys = try FoldKeys.load(config.fold, vocabulary: split.vocabulary, db: db, seed: config.seed)
        if let foldKeys {
            log("folding history older than the last \(config.maxLength) events by \(config.fold.key.rawValue) "
                + "(\(foldKeys.count) keys, \(config.fold.groups) folds × \(config.fold.groupLength) events)")
        }
        if snapshot == nil {
            try FileManager.default.createDirectory(at: run.url, withIntermediateDirectories: true)
            try config.jsonData(pretty: true).write(to: run.configFile)
            try VocabularyFile(split.vocabulary, snapshotBatch: histories.snapshotBatch, db: db).write(to: run.vocabularyFile)
        }
        log("\(modelId): \(config.model.rawValue), \(Format.count(split.vocabulary.count)) items, "
            + "\(Format.count(split.validationExamples.count)) validation users, run directory \(run.url.path)")

        let trainer = Trainer(config: config, split: split, run: run, foldKeys: foldKeys, showProgress: showProgress, log: log)
        let outcome = try trainer.train(modelId: modelId)
        let sha = try SHA256.hex(ofFile: run.modelFile)
        let record = ModelRecord(
            id: modelId, kind: config.model, config: String(decoding: try config.jsonData(), as: UTF8.self),
            snapshotBatch: histories.snapshotBatch, users: histories.userCount, items: split.vocabulary.count,
            events: histories.eventCount, bestEpoch: outcome.state.bestEpoch, epochs: outcome.state.epochsDone,
            valid: outcome.valid.summary, test: outcome.test.summary, testSampled: outcome.testSampled.mapValues(\.summary),
            history: String(decoding: try JSONEncoder.snakeCase().encode(outcome.state.history), as: UTF8.self),
            artifactPath: run.url.standardizedFileURL.path, artifactSHA256: sha, loadSeconds: loadSeconds,
            trainSeconds: outcome.state.trainSeconds, totalSeconds: Date().timeIntervalSince(started))
        try JSONEncoder.snakeCase().encode(record).write(to: run.metricsFile)
        try ModelRegistry(db).register(record)
        return Result(outcome: outcome, record: record)
    }

    /// '<kind>-<yyyymmdd-hhmmss>-<4 hex>': sortable by time within a kind, unique across concurrent runs.
    static func newModelId(_ kind: ModelKind) -> String {
        "\(kind.rawValue)-\(Format.compactTimestamp())-\(String(format: "%04x", UInt16.random(in: 0...UInt16.max)))"
    }
}

/// `vocabulary.json`: the model index → database id and external id of every item, and the data
/// snapshot the run was built from (a resumed run reloads exactly that data).
public struct VocabularyFile: Sendable, Codable {
    public var snapshotBatch: Int
    /// Index i is model index i; index 0 is padding (id 0, external id "").
    public var databaseIds: [Int32]
    public var externalIds: [String]

    init(_ vocabulary: ItemVocabulary, snapshotBatch: Int, db: PostgresConnection) throws {
        self.snapshotBatch = snapshotBatch
        databaseIds = vocabulary.databaseIds
        let result = try db.query("SELECT id, external_id FROM items")
        var external: [Int32: String] = [:]
        for i in 0..<result.rowCount { external[Int32(result.int(i, 0)!)] = result.string(i, 1)! }
        externalIds = databaseIds.map { $0 == 0 ? "" : external[$0] ?? "" }
    }

    func write(to url: URL) throws { try JSONEncoder.snakeCase().encode(self).write(to: url) }
}
