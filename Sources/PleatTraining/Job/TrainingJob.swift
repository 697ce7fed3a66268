import Foundation
import PleatCore
import PleatHistories
import PleatModel
import PleatMPI
import PleatStorage

/// `pleat train` as a library call: load the histories from PostgreSQL, split, train (or resume), write
/// the model artifact and register the model.
///
/// The registry insert is a run's commit point. Before it, the run directory holds everything the row
/// records (`metrics.json`) and a sealed artifact (SHA256SUMS written last); so a crash at any moment
/// leaves either a registered model whose artifact verifies, or an unregistered run that `--resume`
/// completes: from its last checkpoint, or, when only the insert was missing, by registering it.
///
/// Data-parallel under MPI (`communicator`): rank 0 chooses or starts the run and tells the others; each
/// rank loads its own user shard (shard `rank/size`) of the same data snapshot; the item vocabulary comes
/// from every shard's counts; rank 0 writes the run's files and registers the model. The run directory
/// must be one the ranks share (one machine, or a shared file system under Slurm).
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
    /// The job's processes: `.single`, or `Communicator.world` under mpirun or srun.
    public var communicator = Communicator.single

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
        if communicator.isDistributed && config.shard.count != 1 {
            throw ConfigError(description: "under mpirun each rank trains on its own shard: leave `shard` unset")
        }
        if communicator.rank == 0 { return try startOrResume(db: db) }
        // The others learn the run from rank 0 and read what it has written.
        let plan = try JSONDecoder.snakeCase.decode(RunPlan.self, from: Data(communicator.broadcast("").utf8))
        let run = RunDirectory(artifacts.appendingPathComponent(plan.modelId))
        guard let config = plan.config else {
            let record = try JSONDecoder.snakeCase.decode(ModelRecord.self, from: Data(contentsOf: run.metricsFile))
            return Result(outcome: nil, record: record)
        }
        return try train(run: run, config: config, resumed: plan.resumed ? Self.readResumable(run) : nil, snapshot: plan.snapshot,
                         lock: nil, db: db, started: Date())
    }

    /// What rank 0 decides and the other ranks of a data-parallel job follow.
    private struct RunPlan: Codable {
        var modelId: String
        /// Nil when the run only needed registering (and is now registered).
        var config: TrainingConfig?
        var resumed = false
        /// The data snapshot (newest ingest batch) every rank loads.
        var snapshot: Int?
    }

    /// Sends rank 0's plan to the other ranks (nothing to do for a single process).
    private func share(_ plan: RunPlan) throws {
        guard communicator.isDistributed else { return }
        _ = communicator.broadcast(String(decoding: try JSONEncoder.snakeCase().encode(plan), as: UTF8.self))
    }

    /// Rank 0's (or the only process's) part: find or start the run, then train it.
    private func startOrResume(db: PostgresConnection) throws -> Result {
        let started = Date()
        var config = config
        let registry = ModelRegistry(db)
        var run: RunDirectory, lock: AdvisoryLock, resumed: (vocabulary: ArtifactVocabulary, header: ModelArtifact.Header)?
        if resume, let (candidate, candidateLock) = try adoptableRun(registry: registry, db: db) {
            (run, lock) = (candidate, candidateLock)
            // Over the defaults, so a run started before a setting existed resumes with its default.
            config = try TrainingConfig.resolve(model: nil, file: run.configFile, overrides: [])
            if config != self.config { log("resuming \(run.modelId) with its stored config; the settings given now are not used") }
            if let record = try? JSONDecoder.snakeCase.decode(ModelRecord.self, from: Data(contentsOf: run.metricsFile)),
               (try? ModelArtifact.load(from: run.url, expectedWeightsSHA256: record.artifactSHA256)) != nil {
                // Only the commit point was missing.
                try registry.register(record)
                log("\(run.modelId) had finished training: registered it")
                try share(RunPlan(modelId: run.modelId))
                return Result(outcome: nil, record: record)
            }
            resumed = try Self.readResumable(run)
        } else {
            if resume { log("nothing to resume for \(config.model.rawValue): starting a new run") }
            run = RunDirectory(artifacts.appendingPathComponent(Self.newModelId(config.model)))
            lock = try lockRun(run.modelId, db: db)
            guard try lock.tryAcquire() else { throw ConfigError(description: "run \(run.modelId) is locked by another process") }
            resumed = nil
        }
        defer { lock.release() }
        try config.validate()
        // A resumed run reads its own snapshot; under MPI every rank reads the one rank 0 sees now.
        let snapshot = try resumed?.vocabulary.snapshotBatch ?? (communicator.isDistributed ? IngestBatches.newestCommitted(db) : nil)
        try share(RunPlan(modelId: run.modelId, config: config, resumed: resumed != nil, snapshot: snapshot))
        return try train(run: run, config: config, resumed: resumed, snapshot: snapshot, lock: lock, db: db, started: started)
    }

    /// Loads this process's data (up to ingest batch `snapshot`, or the newest), trains, and (rank 0)
    /// writes and registers the model.
    private func train(run: RunDirectory, config: TrainingConfig, resumed: (vocabulary: ArtifactVocabulary, header: ModelArtifact.Header)?,
                       snapshot: Int?, lock: AdvisoryLock?, db: PostgresConnection, started: Date) throws -> Result {
        let writes = communicator.rank == 0
        var config = config
        let shard = communicator.isDistributed ? try Shard(index: communicator.rank, count: communicator.size) : config.shard
        let histories = try HistoryLoader.load(from: db, upToBatch: snapshot, shard: shard)
        let loadSeconds = Date().timeIntervalSince(started)
        log(String(format: "loaded %@ events of %@ users%@ in %.2f s (data up to ingest batch %d)",
                   Format.count(histories.eventCount), Format.count(histories.userCount),
                   shard.count > 1 ? " of shard \(shard)" : "", loadSeconds, histories.snapshotBatch))
        try resolveBehaviourTypes(&config, histories, db: db)
        // Item counts over every rank's events: the vocabulary (`min_count`) and the artifact's counts.
        let itemCounts = Self.itemCounts(histories, communicator: communicator)
        let warmStart = config.warmStart.isOn
            ? try WarmStart.prepare(config.warmStart, spec: config.spec, histories: histories, itemCounts: itemCounts, minCount: config.minCount,
                                    seed: config.seed, db: db)
            : nil
        if let warmStart {
            if let resumed, resumed.vocabulary.databaseIds != warmStart.vocabulary.databaseIds {
                throw ConfigError(description: "\(run.modelId): the items new since \(warmStart.parent.id) are not those the run started with: start a new run")
            }
            log("warm start from \(warmStart.parent.id) (data up to ingest batch \(warmStart.parent.snapshotBatch)): "
                + "\(Format.count(warmStart.newItems)) new items\(warmStart.coldItems > 0 ? " and \(Format.count(warmStart.coldItems)) without events yet" : ""), "
                + "\(Format.count(warmStart.changedUsers)) users with newer events, \(Format.count(warmStart.trains.filter { $0 }.count)) users trained "
                + String(format: "(replay share %.2f)", config.warmStart.replayShare))
        }
        let split = SequenceSplit(histories, vocabulary: warmStart?.vocabulary.trainingIndex ?? ItemVocabulary(counts: itemCounts, minCount: config.minCount),
                                  cutoff: try config.cutoffSeconds(), targetBehaviours: try config.targetBehaviours(db))
        if let targets = config.targetEvents {
            log("targets: \(targets.names.joined(separator: ", ")) events only (training labels, validation and test targets); every event is history")
        }
        let trainable = communicator.sum(split.sequences.indices.filter { split.trainSequence($0).count >= 2 }.count)
        guard split.vocabulary.count > 0, trainable > 0 else {
            throw ConfigError(description: "no training data: ingest interactions first (every user needs at least 2 events)")
        }
        // Fold keys are frozen when a run starts (in its spec.json): a resumed run and every later use of
        // the model see the keys it was trained with, whatever the database says by then.
        let foldKeys = try resumed.map { $0.header.foldKeys }
            ?? (warmStart.map { try $0.foldKeys(rule: config.fold.key, db: db) } ?? FoldKeys.load(config.fold, vocabulary: split.vocabulary, db: db, seed: config.seed))
        if let foldKeys {
            log("folding history older than the last \(config.maxLength) events by \(config.fold.key.rawValue) "
                + "(\(foldKeys.count) keys, \(config.fold.groups) folds × \(config.fold.groupLength) events)")
        }
        let vocabulary = try resumed?.vocabulary ?? warmStart?.vocabulary ?? Self.vocabulary(split.vocabulary, counts: itemCounts,
                                                                                snapshotBatch: histories.snapshotBatch, db: db)
        if resumed == nil && writes {
            // `auto` settings become concrete here, so that the stored config and spec say what ran.
            config.sasrec.loss = config.sasrec.loss.resolved(items: split.vocabulary.count)
            try FileManager.default.createDirectory(at: run.url, withIntermediateDirectories: true)
            try ModelArtifact.writeHeader(modelId: run.modelId, spec: config.spec, vocabulary: vocabulary, foldKeys: foldKeys, to: run.url)
            // Last: a run whose config.json exists has everything it needs to resume.
            try DurableFile.write(try config.jsonData(pretty: true), to: run.configFile)
            CrashPoint.reach("run.start")
        }
        log("\(run.modelId): \(config.model.rawValue), \(Format.count(split.vocabulary.count)) items, "
            + "\(Format.count(split.validationExamples.count)) validation users, run directory \(run.url.path)")

        // The run directory exists (rank 0 made it) before any rank looks for a checkpoint in it.
        communicator.barrier()
        let trainer = Trainer(config: config, split: split, run: run, foldKeys: foldKeys, warmStart: warmStart, showProgress: showProgress,
                              communicator: communicator, log: log)
        let outcome = try trainer.train(modelId: run.modelId)
        let users = communicator.sum(histories.userCount), events = communicator.sum(histories.eventCount)
        guard writes else {
            communicator.barrier()  // rank 0 has written and registered the model
            let record = try JSONDecoder.snakeCase.decode(ModelRecord.self, from: Data(contentsOf: run.metricsFile))
            return Result(outcome: outcome, record: record)
        }
        try lock?.check()
        // The spec and vocabulary were written when the run started; sealing adds their sums and the weights'.
        let sha = try ModelArtifact.seal(run.url)
        let record = ModelRecord(
            id: run.modelId, kind: config.model, config: String(decoding: try config.jsonData(), as: UTF8.self),
            snapshotBatch: histories.snapshotBatch, users: users, items: split.vocabulary.count,
            events: events, bestEpoch: outcome.state.bestEpoch, epochs: outcome.state.epochsDone,
            valid: outcome.valid.summary, test: outcome.test.summary, testSampled: outcome.testSampled.mapValues(\.summary),
            history: outcome.state.history,
            artifactPath: run.url.standardizedFileURL.path, artifactSHA256: sha, loadSeconds: loadSeconds,
            trainSeconds: outcome.state.trainSeconds, totalSeconds: Date().timeIntervalSince(started))
        try DurableFile.write(try JSONEncoder.snakeCase().encode(record), to: run.metricsFile)
        CrashPoint.reach("metrics")
        try ModelRegistry(db).register(record)
        CrashPoint.reach("registry")
        communicator.barrier()
        return Result(outcome: outcome, record: record)
    }

    /// `behaviour.types = 0` becomes the highest event type id in the data (over every rank), so that
    /// the stored config and spec say how large the behaviour table is; the names of those ids are
    /// stored with them (`BehaviourSettings.names`).
    private func resolveBehaviourTypes(_ config: inout TrainingConfig, _ histories: InteractionHistories, db: PostgresConnection) throws {
        guard config.behaviour.input != .none || config.behaviour.inputEvents != nil else { return }
        if config.behaviour.types == 0 {
            config.behaviour.types = communicator.maximum(Int(histories.behaviours.max() ?? 0))
            guard config.behaviour.types > 0 else {
                throw ConfigError(description: "config key behaviour: the data has no event types to read (ingest with --event-col)")
            }
            guard config.behaviour.types <= BehaviourSettings.maxTypes else {
                throw ConfigError(description: "config key behaviour.input: the data has \(config.behaviour.types) event types, more than "
                                  + "\(BehaviourSettings.maxTypes) (is the event column an identifier?)")
            }
        }
        if config.behaviour.names.isEmpty {
            let byId = Dictionary(try EventTypeTable(db).ids().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            config.behaviour.names = (1...config.behaviour.types).map { byId[Int16($0)] ?? "" }
        }
        if config.behaviour.input == .interleaved && config.behaviour.queryEvent == nil {
            config.behaviour.queryEvent = config.targetEvents?.names.first ?? mostFrequentEvent(histories, names: config.behaviour.names)
        }
        for name in (config.behaviour.inputEvents?.names ?? []) + (config.behaviour.queryEvent.map { [$0] } ?? [])
            where !config.behaviour.names.contains(name) {
            throw ConfigError(description: "config key behaviour: no event type '\(name)' in the data (it has: "
                              + "\(config.behaviour.names.filter { !$0.isEmpty }.sorted().joined(separator: ", ")))")
        }
        log("behaviour input: \(config.behaviour.input.rawValue) of \(config.behaviour.types) event types "
            + "(\(config.behaviour.names.filter { !$0.isEmpty }.joined(separator: ", ")))"
            + (config.behaviour.inputEvents.map { "; the encoder reads \($0.names.joined(separator: ", ")) events only" } ?? "")
            + (config.behaviour.input == .interleaved ? "; queries ask for \(config.behaviour.queryEvent ?? "no behaviour")" : ""))
    }

    /// The name of the behaviour most events have (over every rank); nil when no event has a named one.
    private func mostFrequentEvent(_ histories: InteractionHistories, names: [String]) -> String? {
        var counts = [Int64](repeating: 0, count: names.count + 1)
        for b in histories.behaviours where b > 0 && Int(b) <= names.count { counts[Int(b)] += 1 }
        communicator.sum(&counts)
        guard let best = counts.indices.dropFirst().max(by: { (counts[$0], -$0) < (counts[$1], -$1) }), counts[best] > 0 else { return nil }
        return names[best - 1].isEmpty ? nil : names[best - 1]
    }

    /// The stored vocabulary and spec of a run being resumed.
    private static func readResumable(_ run: RunDirectory) throws -> (vocabulary: ArtifactVocabulary, header: ModelArtifact.Header) {
        let decoder = JSONDecoder.snakeCase
        return (try decoder.decode(ArtifactVocabulary.self, from: Data(contentsOf: run.vocabularyFile)),
                try decoder.decode(ModelArtifact.Header.self, from: Data(contentsOf: run.specFile)))
    }

    /// Events per database item id in this process's histories, summed over the ranks.
    static func itemCounts(_ histories: InteractionHistories, communicator: Communicator) -> [Int64] {
        var counts = ItemVocabulary.counts(events: histories.items, largestId: communicator.maximum(Int(histories.items.max() ?? 0)))
        communicator.sum(&counts)
        return counts
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

    /// The vocabulary with external ids and event counts (`counts` indexed by database id; an item past
    /// its end, such as a warm start's item without events, has none).
    static func vocabulary(_ vocabulary: ItemVocabulary, counts: [Int64], snapshotBatch: Int, db: PostgresConnection) throws -> ArtifactVocabulary {
        let external = try ItemTable(db).externalIds()
        return ArtifactVocabulary(snapshotBatch: snapshotBatch, databaseIds: vocabulary.databaseIds,
                                  externalIds: vocabulary.databaseIds.map { $0 == 0 ? "" : external[$0] ?? "" },
                                  counts: vocabulary.databaseIds.map { $0 == 0 || Int($0) >= counts.count ? 0 : Int(counts[Int($0)]) })
    }

    /// '<kind>-<yyyymmdd-hhmmss>-<4 hex>': sortable by time within a kind, unique across concurrent runs.
    static func newModelId(_ kind: ModelKind) -> String {
        "\(kind.rawValue)-\(Format.compactTimestamp())-\(String(format: "%04x", UInt16.random(in: 0...UInt16.max)))"
    }
}
