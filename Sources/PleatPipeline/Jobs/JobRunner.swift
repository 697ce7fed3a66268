import Foundation
import PleatCore
import PleatEvaluation
import PleatScoring
import PleatStorage
import PleatTraining
import PleatModel

/// `pleat jobs run NAME`: one run of a scheduled job. It holds the job's advisory lock throughout (a
/// second run exits, or waits with `wait`), records each attempt in `job_runs`, ingests the pipeline's
/// sources, trains only when there is data newer than the last model, evaluates, and promotes the new
/// model only when the job's `PromotionRule` says so (no worse than the serving model beyond its margin,
/// significantly better than the best baseline), recording the decision.
public struct JobRunner {
    public let job: JobDefinition
    public var pipeline: PipelineRunner
    /// Wait for a run in progress instead of exiting.
    public var wait = false
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public init(_ job: JobDefinition, home: PleatHome) {
        self.job = job
        pipeline = PipelineRunner(job.pipeline, home: home)
    }

    public struct Outcome: Sendable, Codable {
        public var job: String
        public var runId: Int
        public var status: JobRunLog.Status
        public var attempts: Int
        public var models: [String]
        public var promoted: String?
        public var message: String
        /// The promotion decision, when the run reached one.
        public var promotion: PromotionDecision?
        /// Warm start or full retrain, per model trained, and why.
        public var training: [RetrainRule.Decision] = []
    }

    /// `db` does the work; the job's lock is held on a second connection to `databaseURL` (kept across a
    /// dropped connection; the run stops at its next stage if another run took the lock meanwhile).
    public func run(db: PostgresConnection, databaseURL: String) throws -> Outcome {
        let runs = JobRunLog(db), lock = try AdvisoryLock(url: databaseURL, name: "pleat.job.\(job.name)")
        if try !lock.tryAcquire() {
            let holder = try runs.recent(job: job.name, limit: 5).first { $0.status == .running }.map { "run \($0.id), pid \($0.pid)" } ?? "another process"
            guard wait else {
                let message = "another run of \(job.name) is in progress (\(holder)): not starting a second one"
                let id = try runs.start(job: job.name, attempt: 1)
                try runs.finish(id, status: .skipped, message: message)
                log(message)
                return Outcome(job: job.name, runId: id, status: .skipped, attempts: 0, models: [], promoted: nil, message: message, promotion: nil)
            }
            log("waiting for the run in progress (\(holder)) to finish")
            try lock.acquire()
        }
        defer { lock.release() }
        for id in try runs.failInterrupted(job: job.name) { log("run \(id) of \(job.name) was interrupted: recorded as failed") }

        for attempt in 1...job.retry.attempts {
            let id = try runs.start(job: job.name, attempt: attempt)
            log("job \(job.name): run \(id), attempt \(attempt) of \(job.retry.attempts) (pipeline \(job.pipeline.file))")
            do {
                var outcome = try once(db: db, lock: lock)
                (outcome.runId, outcome.attempts) = (id, attempt)
                try runs.finish(id, status: outcome.status, models: outcome.models, promoted: outcome.promoted, message: outcome.message,
                                promotion: outcome.promotion)
                log("job \(job.name): \(outcome.status.rawValue): \(outcome.message)")
                return outcome
            } catch {
                try runs.finish(id, status: .failed, error: "\(error)")
                guard attempt < job.retry.attempts else { throw error }
                log("job \(job.name): attempt \(attempt) failed (\(error)); retrying in \(Format.duration(job.retry.delaySeconds))")
                Thread.sleep(forTimeInterval: job.retry.delaySeconds)
            }
        }
        preconditionFailure("unreachable: the last attempt returns or throws")
    }

    private func once(db: PostgresConnection, lock: AdvisoryLock) throws -> Outcome {
        let definition = job.pipeline
        let stages = StageLog(total: definition.sources.count + definition.models.count + 2, write: log)
        _ = try pipeline.ingest(db: db, stages: stages)
        try lock.check()
        let newest = try IngestBatches.newestCommitted(db)
        let kinds = Set(definition.models.map(\.config.model))
        if let last = try ModelRegistry(db).list().first(where: { kinds.contains($0.kind) }), last.snapshotBatch >= newest {
            return outcome(.skipped, [], nil, "no new data since \(last.id) (trained on data up to ingest batch \(last.snapshotBatch)): nothing trained")
        }
        var decisions: [RetrainRule.Decision] = []
        let records = try definition.models.enumerated().map { i, model in
            stages.begin("train: \(model.config.model.rawValue) (\(i + 1) of \(definition.models.count))")
            let (record, decision) = try train(model.config, db: db)
            decisions.append(decision)
            return record
        }
        try lock.check()
        if definition.evaluation.enabled {
            stages.begin("evaluate")
            _ = try pipeline.evaluate(records, db: db)
        }
        stages.begin("promote")
        defer { log(stages.summary) }
        try lock.check()  // never promote beside another run
        let ids = records.map(\.id)
        // How each model was trained goes with the run's outcome, after what became of it.
        func trained(_ outcome: Outcome) -> Outcome {
            var outcome = outcome
            outcome.training = decisions
            outcome.message += " (" + decisions.map { "\($0.kind): \($0.reason)" }.joined(separator: "; ") + ")"
            return outcome
        }
        guard let candidate = pipeline.scoringCandidate(records) else {
            return trained(outcome(.succeeded, ids, nil, "trained \(ids.joined(separator: ", ")); the pipeline does not score"))
        }
        guard let decision = try pipeline.promotion(of: candidate, rule: job.promotion, force: false, db: db) else {
            return trained(outcome(.succeeded, ids, nil, "\(candidate.id) is the serving model already"))
        }
        _ = try pipeline.score(candidate, db: db, activate: decision.promoted)
        let kept = decision.serving.map { "kept \($0)" } ?? "no model serves"
        return trained(decision.promoted
            ? outcome(.succeeded, ids, candidate.id, "promoted \(candidate.id): " + decision.reason, decision)
            : outcome(.succeeded, ids, nil, "\(kept): \(candidate.id) is not promoted: " + decision.reason, decision))
    }

    /// One model of the pipeline, warm-started or retrained in full as the job's `RetrainRule` says; a
    /// warm start that cannot be made (the pipeline's settings no longer fit the parent) or that drifted
    /// too far is followed by a full retrain, with the reason.
    private func train(_ config: TrainingConfig, db: PostgresConnection) throws -> (ModelRecord, RetrainRule.Decision) {
        let registry = ModelRegistry(db)
        let serving = try RecommendationCache(path: pipeline.cachePath).activeSet()?.modelId
        var decision = job.training.plan(kind: config.model, registered: try registry.list(), serving: serving, now: Date())
        log("  \(decision.reason)")
        if let parent = decision.parent {
            var warm = config
            warm.warmStart.parent = parent
            do {
                let record = try pipeline.train(warm, db: db)
                guard let drift = job.training.drift(record, registered: try registry.list()) else { return (record, decision) }
                decision = RetrainRule.Decision(kind: config.model.rawValue, parent: nil, reason: drift)
            } catch where error is ConfigError || error is ArtifactError {  // the parent does not fit the pipeline's settings
                decision = RetrainRule.Decision(kind: config.model.rawValue, parent: nil, reason: "full retrain: the warm start from \(parent) failed: \(error)")
            }
            log("  \(decision.reason)")
        }
        var full = config
        full.warmStart.parent = ""
        return (try pipeline.train(full, db: db), decision)
    }

    private func outcome(_ status: JobRunLog.Status, _ models: [String], _ promoted: String?, _ message: String,
                         _ promotion: PromotionDecision? = nil) -> Outcome {
        Outcome(job: job.name, runId: 0, status: status, attempts: 0, models: models, promoted: promoted, message: message, promotion: promotion)
    }
}
