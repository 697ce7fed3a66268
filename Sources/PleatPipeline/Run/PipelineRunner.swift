import Foundation
import PleatCore
import PleatEvaluation
import PleatIngest
import PleatScoring
import PleatStorage
import PleatTraining
import PleatMetrics
import PleatModel

/// Runs a pipeline definition: ingest every source, train every model, score with the chosen one into
/// the recommendation cache, and evaluate them all against the baselines. Each stage is also callable
/// on its own, so a scheduled job can put its own decisions between them.
public struct PipelineRunner {
    public let definition: PipelineDefinition
    public let home: PleatHome
    /// The SQLite recommendation cache.
    public var cachePath: String
    /// Serve the scored model's lists even when the promotion rule keeps it out (`pleat run --force`;
    /// recorded with the decision).
    public var force = false
    public var showProgress = true
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public init(_ definition: PipelineDefinition, home: PleatHome) {
        self.definition = definition
        self.home = home
        cachePath = RecommendationCache.defaultPath(home: home)
    }

    /// What a run did (`pleat run --json`).
    public struct Result: Sendable, Codable {
        public var pipeline: String
        public var ingested: [IngestReport]
        public var models: [TrainedModel]
        public var scored: BatchScorer.Report?
        /// Whether the scored model may serve, decided before its lists were activated.
        public var promotion: PromotionDecision?
        public var reportDirectory: String?
        public var evaluation: EvaluationReport?
        public var seconds: Double
    }

    public struct TrainedModel: Sendable, Codable {
        public var id: String, kind: String, epochs: Int, bestEpoch: Int, seconds: Double
        public var valid: MetricSummary, test: MetricSummary
        init(_ r: ModelRecord) {
            (id, kind, epochs, bestEpoch, seconds, valid, test) = (r.id, r.kind.rawValue, r.epochs, r.bestEpoch, r.totalSeconds, r.valid, r.test)
        }
    }

    public func run(db: PostgresConnection) throws -> Result {
        let start = Date()
        let evaluate = definition.evaluation.enabled, score = definition.scoring.model != "none"
        let stages = StageLog(total: definition.sources.count + definition.models.count + (score ? 1 : 0) + (evaluate ? 1 : 0), write: log)
        let ingested = try ingest(db: db, stages: stages)
        let records = try train(db: db, stages: stages)
        var result = Result(pipeline: definition.name, ingested: ingested, models: records.map(TrainedModel.init), scored: nil,
                            promotion: nil, reportDirectory: nil, evaluation: nil, seconds: 0)
        // Evaluated before anything is activated: the report says what a model is worth before it serves.
        if evaluate {
            stages.begin("evaluate: \(records.count) model(s) against \(definition.evaluation.baselines.map(\.rawValue).joined(separator: ", "))")
            let (report, directory) = try self.evaluate(records, db: db)
            (result.evaluation, result.reportDirectory) = (report, directory.path)
        }
        if score, let chosen = scoringCandidate(records) {
            stages.begin("score: every user with \(chosen.id) into \(cachePath)")
            result.promotion = try promotion(of: chosen, rule: definition.promotion, force: force, db: db)
            if let decision = result.promotion, let report = result.reportDirectory {
                try decision.append(toReport: URL(fileURLWithPath: report))
            }
            result.scored = try self.score(chosen, db: db, activate: result.promotion?.activates ?? true)
        }
        log("pipeline \(definition.name) finished\n" + stages.summary)
        result.seconds = Date().timeIntervalSince(start)
        return result
    }

    // MARK: Stages

    /// Ingests each source as one batch (a file already ingested is a no-op); stops on an aborted batch.
    func ingest(db: PostgresConnection, stages: StageLog? = nil) throws -> [IngestReport] {
        try definition.sources.map { source in
            switch source {
            case .file(let path, _): stages?.begin("ingest: \(path)")
            case .synthetic(let s): stages?.begin("ingest: synthetic data, \(Format.count(s.users)) users (seed \(s.seed))")
            }
            var (path, options) = try prepare(source)
            options.showProgress = showProgress
            let report = try Ingestor(db: db).ingest(file: path, options: options)
            switch report.status {
            case .aborted: throw PipelineError("\(path): ingest aborted, nothing stored: \(report.message ?? "too many rejected rows")")
            case .alreadyIngested: log("  already ingested (batch \(report.batchId.map(String.init) ?? "-")): nothing to do")
            case .committed:
                log("  batch \(report.batchId ?? 0): \(Format.count(report.rowsLoaded)) events loaded, \(Format.count(report.rowsRejected)) rejected"
                    + (report.rowsRejected > 0 ? " (SELECT line_number, reason FROM rejected_rows WHERE batch_id = \(report.batchId ?? 0))" : ""))
            }
            return report
        }
    }

    /// The file to ingest for a source: synthetic data is generated once under the home (the same
    /// settings give the same file, so a re-run is a no-op).
    private func prepare(_ source: PipelineDefinition.Source) throws -> (String, IngestOptions) {
        switch source {
        case .file(let path, let options): return (path, options)
        case .synthetic(let s):
            let directory = home.url.appendingPathComponent("data/\(definition.name)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let stem = directory.appendingPathComponent("synthetic-u\(s.users)-i\(s.items)-c\(s.categories)-m\(s.medianEvents)-\(s.minEvents)-\(s.maxEvents)-s\(s.seed)").path
            let interactions = stem + ".csv", items = stem + ".items.csv"
            if !FileManager.default.fileExists(atPath: items) {
                _ = try SyntheticLog(settings: s).write(interactions: interactions + ".partial", items: items + ".partial", progress: showProgress)
                try FileManager.default.moveItem(atPath: interactions + ".partial", toPath: interactions)
                try FileManager.default.moveItem(atPath: items + ".partial", toPath: items)
            }
            return (interactions, IngestOptions(format: .csv, itemsFile: items))
        }
    }

    /// Trains and registers every model of the definition, in order.
    func train(db: PostgresConnection, stages: StageLog? = nil) throws -> [ModelRecord] {
        try definition.models.enumerated().map { i, spec in
            stages?.begin("train: \(spec.config.model.rawValue) (\(i + 1) of \(definition.models.count))")
            return try train(spec.config, db: db)
        }
    }

    /// Trains and registers one model.
    func train(_ config: TrainingConfig, db: PostgresConnection) throws -> ModelRecord {
        var job = TrainingJob(config: config, artifacts: home.url.appendingPathComponent("models"))
        (job.showProgress, job.log) = (showProgress, log)
        let record = try job.run(db: db).record
        log(String(format: "  %@: validation NDCG@10 %.4f, test NDCG@10 %.4f (best epoch %d of %d)", record.id,
                   record.valid.ndcg(at: 10) ?? 0, record.test.ndcg(at: 10) ?? 0, record.bestEpoch, record.epochs))
        return record
    }

    /// Decides (and records) whether `record` may replace the serving model under `rule`; nil when it is
    /// the serving model already. `force`: activated whatever the rule says, and recorded so.
    public func promotion(of record: ModelRecord, rule: PromotionRule, force: Bool, db: PostgresConnection) throws -> PromotionDecision? {
        guard let decision = try Promotion.review(record, servedBy: try RecommendationCache(path: cachePath), rule: rule, force: force, db: db) else {
            return nil
        }
        log("  \(decision.promoted ? "promoted" : decision.forced ? "not promoted, served with --force" : "not promoted, not served"): \(decision.reason)")
        return decision
    }

    /// Scores every user with `record` into the cache, and makes its lists the active ones if `activate`.
    public func score(_ record: ModelRecord, db: PostgresConnection, activate: Bool = true) throws -> BatchScorer.Report {
        var scorer = BatchScorer()
        (scorer.topK, scorer.seen, scorer.showProgress, scorer.activate) = (definition.scoring.topK, definition.seen, showProgress, activate)
        let report = try scorer.run(model: try ScoringModel.load(record, db: db, batchSize: 256), db: db, cache: try RecommendationCache(path: cachePath))
        log(String(format: "  %@ users scored in %.1f s (%@ users/s); cache %@", Format.count(report.users), report.seconds,
                   Format.count(Int(report.usersPerS)), cachePath))
        return report
    }

    /// Evaluates the models against the baselines, writes the report and records the run.
    public func evaluate(_ records: [ModelRecord], db: PostgresConnection) throws -> (EvaluationReport, URL) {
        let settings = definition.evaluation
        var evaluation = OfflineEvaluation(modelIds: records.map(\.id))
        (evaluation.baselines, evaluation.examples, evaluation.sampled, evaluation.log) = (settings.baselines, settings.examples, settings.sampled, log)
        evaluation.seen = definition.seen
        // A directory of the pipeline's own: one per run, the newest linked as `latest`.
        let directory = settings.report.map { URL(fileURLWithPath: $0) }
            ?? ReportRuns.next(in: home.url.appendingPathComponent("reports/\(definition.name)"))
        let (report, _) = try evaluation.run(db: db, reportingTo: directory)
        if settings.report == nil { try ReportRuns.markLatest(directory) }
        log("  report: \(directory.path)/report.html (summary.md, metrics.json)")
        return (report, directory)
    }

    /// The trained model the pipeline scores with: the best validation NDCG@10 (the first on ties), or
    /// the one of the kind `scoring.model` names; nil with `scoring.model: none`.
    func scoringCandidate(_ records: [ModelRecord]) -> ModelRecord? {
        switch definition.scoring.model {
        case "none": return nil
        case "best": return records.reduce(records[0]) { ($1.valid.ndcg(at: 10) ?? 0) > ($0.valid.ndcg(at: 10) ?? 0) ? $1 : $0 }
        case let kind: return records.first { $0.kind.rawValue == kind }
        }
    }
}

/// A pipeline or job that cannot go on, with the reason.
public struct PipelineError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
