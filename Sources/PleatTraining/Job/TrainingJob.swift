import Foundation
import PleatCore
import PleatHistories
import PleatModel
import PleatStorage

/// `pleat train` as a library call: load the histories from PostgreSQL, split, train (or resume), write
/// the model artifact and register the model.
///
/// The registry insert is a run's commit point. Before it, the run directory holds everything the row
/// records (`metrics.json`) and a sealed artifact (SHA256SUMS written last); so a crash at any moment
/// leaves either a registered model whose artifact verifies, or an unregistered run that `--resume`
/// completes: from its last checkpoint, or, when only the insert was missing, by registering it.
public struct TrainingJob {
    public var config: TrainingConfig
    /// Where runs live (`<artifacts>/<model id>/`).
    public var artifacts: URL
    /// Continue the newest unregistered run of this model kind (its stored config wins).
    public var resume = false
    public var showProgress = true
    /// The database's URL, for the run's lock (kept across a dropped connection); without it the lock
    /// lives on the job's own connection.
    public var databaseURL: String?
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public init(config: TrainingConfig, artifacts: URL) {
        self.config = config
        self.artifacts = artifacts
    }

    public struct Result: Sendable {
        /// Nil when a resumed run only needed registering.
        public let outcome: TrainingOutcome?
        public let record: ModelRecord
    }

    public func run(db: PostgresConnection) throws -> Result {
        let started = Date()
        var config = config
        let registry = ModelRegistry(db)
        var run: RunDirectory, lock: AdvisoryLock, resumed: (vocabulary: ArtifactVocabulary, header: ModelArtifact.Header)?
        if resume, let (candidate, candidateLock) = try adoptableRun(registry: registry, db: db) {
            (run, lock) = (candidate, candidateLock)
            config = try JSONDecoder.snakeCase.decode(TrainingConfig.self, from: Data(contentsOf: run.configFile))
            if config != self.config { log("resuming \(run.modelId) with its stored config; the settings given now are not used") }
            if let record = try? JSONDecoder.snakeCase.decode(ModelRecord.self, from: Data(contentsOf: run.metricsFile)),
               (try? ModelArtifact.load(from: run.url, expectedWeightsSHA256: record.artifactSHA256)) != nil {
                // Only the commit point was missing.
                try registry.register(record)
                log("\(run.modelId) had finished training: registered it")
                return Result(outcome: nil, record: record)
            }
            let decoder = JSONDecoder.snakeCase
            resumed = (try decoder.decode(ArtifactVocabulary.self, from: Data(contentsOf: run.vocabularyFile)),
                       try decoder.decode(ModelArtifact.Header.self, from: Data(contentsOf: run.specFile)))
        } else {
            if resume { log("nothing to resume for \(config.model.rawValue): starting a new run") }
            run = RunDirectory(artifacts.appendingPathComponent(Self.newModelId(config.model)))
            lock = try lockRun(run.modelId, db: db)
            guard try lock.tryAcquire() else { throw ConfigError(description: "run \(run.modelId) is locked by another process") }
            resumed = nil
        }
        defer { lock.release() }
        try config.validate()

        let histories = try HistoryLoader.load(from: db, upToBatch: resumed?.vocabulary.snapshotBatch, shard: config.shard)
        let loadSeconds = Date().timeIntervalSince(started)
        log(String(format: "loaded %@ events of %@ users%@ in %.2f s (data up to ingest batch %d)",
                   Format.count(histories.eventCount), Format.count(histories.userCount),
                   config.shard.count > 1 ? " of shard \(config.shard)" : "", loadSeconds, histories.snapshotBatch))
        let split = SequenceSplit(histories, minCount: config.minCount, cutoff: try config.cutoffSeconds())
        guard split.vocabulary.count > 0, split.sequences.indices.contains(where: { split.trainSequence($0).count >= 2 }) else {
            throw ConfigError(description: "no training data: ingest interactions first (every user needs at least 2 events)")
        }
        // Fold keys are frozen when a run starts (in its spec.json): a resumed run and every later use of
        // the model see the keys it was trained with, whatever the database says by then.
        let foldKeys = try resumed.map { $0.header.foldKeys }
            ?? FoldKeys.load(config.fold, vocabulary: split.vocabulary, db: db, seed: config.seed)
        if let foldKeys {
            log("folding history older than the last \(config.maxLength) events by \(config.fold.key.rawValue) "
                + "(\(foldKeys.count) keys, \(config.fold.groups) folds × \(config.fold.groupLength) events)")
        }
        let vocabulary = try resumed?.vocabulary ?? Self.vocabulary(split.vocabulary, histories: histories, db: db)
        if resumed == nil {
            // `auto` settings become concrete here, so that the stored config and spec say what ran.
            config.sasrec.loss = config.sasrec.loss.resolved(items: split.vocabulary.count)
            try FileManager.default.createDirectory(at: run.url, withIntermediateDirectories: true)
            let encoder = JSONEncoder.snakeCase(pretty: true)
            try DurableFile.write(try encoder.encode(ModelArtifact.Header(formatVersion: ModelArtifact.formatVersion, modelId: run.modelId,
                                                                          spec: config.spec, items: vocabulary.count, foldKeys: foldKeys)),
                                  to: run.specFile)
            try DurableFile.write(try encoder.encode(vocabulary), to: run.vocabularyFile)
            // Last: a run whose config.json exists has everything it needs to resume.
            try DurableFile.write(try config.jsonData(pretty: true), to: run.configFile)
            CrashPoint.reach("run.start")
        }
        log("\(run.modelId): \(config.model.rawValue), \(Format.count(split.vocabulary.count)) items, "
            + "\(Format.count(split.validationExamples.count)) validation users, run directory \(run.url.path)")

        let trainer = Trainer(config: config, split: split, run: run, foldKeys: foldKeys, showProgress: showProgress, log: log)
        let outcome = try trainer.train(modelId: run.modelId)
        try lock.check()
        let sha = try SHA256.hex(ofFile: run.modelFile)
        let record = ModelRecord(
            id: run.modelId, kind: config.model, config: String(decoding: try config.jsonData(), as: UTF8.self),
            snapshotBatch: histories.snapshotBatch, users: histories.userCount, items: split.vocabulary.count,
            events: histories.eventCount, bestEpoch: outcome.state.bestEpoch, epochs: outcome.state.epochsDone,
            valid: outcome.valid.summary, test: outcome.test.summary, testSampled: outcome.testSampled.mapValues(\.summary),
            history: outcome.state.history,
            artifactPath: run.url.standardizedFileURL.path, artifactSHA256: sha, loadSeconds: loadSeconds,
            trainSeconds: outcome.state.trainSeconds, totalSeconds: Date().timeIntervalSince(started))
        try DurableFile.write(try JSONEncoder.snakeCase().encode(record), to: run.metricsFile)
        CrashPoint.reach("metrics")
        try ModelArtifact.write(modelId: run.modelId, spec: config.spec, vocabulary: vocabulary, foldKeys: foldKeys, to: run.url)
        try registry.register(record)
        CrashPoint.reach("registry")
        return Result(outcome: outcome, record: record)
    }

    /// The newest started run of this kind that the registry does not have and no other process holds,
    /// with its lock taken (so two resumes never adopt the same run, nor one a run still training).
    private func adoptableRun(registry: ModelRegistry, db: PostgresConnection) throws -> (RunDirectory, AdvisoryLock)? {
        for candidate in RunDirectory.started(in: artifacts, kind: config.model) where try registry.find(candidate.modelId) == nil {
            let lock = try lockRun(candidate.modelId, db: db)
            if try lock.tryAcquire() { return (candidate, lock) }
            log("\(candidate.modelId) is being trained by another process: not resuming it")
        }
        return nil
    }

    private func lockRun(_ modelId: String, db: PostgresConnection) throws -> AdvisoryLock {
        let name = "pleat.train.\(modelId)"
        return try databaseURL.map { try AdvisoryLock(url: $0, name: name) } ?? AdvisoryLock(connection: db, name: name)
    }

    /// The vocabulary with external ids and training counts.
    static func vocabulary(_ vocabulary: ItemVocabulary, histories: InteractionHistories, db: PostgresConnection) throws -> ArtifactVocabulary {
        var external: [Int32: String] = [:]
        for row in try db.query("SELECT id, external_id FROM items").rows { external[Int32(try row.int("id"))] = try row.string("external_id") }
        var counts = [Int](repeating: 0, count: vocabulary.databaseIds.count)
        for item in histories.items { if let index = vocabulary.modelIndex(of: item) { counts[Int(index)] += 1 } }
        return ArtifactVocabulary(snapshotBatch: histories.snapshotBatch, databaseIds: vocabulary.databaseIds,
                                  externalIds: vocabulary.databaseIds.map { $0 == 0 ? "" : external[$0] ?? "" }, counts: counts)
    }

    /// '<kind>-<yyyymmdd-hhmmss>-<4 hex>': sortable by time within a kind, unique across concurrent runs.
    static func newModelId(_ kind: ModelKind) -> String {
        "\(kind.rawValue)-\(Format.compactTimestamp())-\(String(format: "%04x", UInt16.random(in: 0...UInt16.max)))"
    }
}
