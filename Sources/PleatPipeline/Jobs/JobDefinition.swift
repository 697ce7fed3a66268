import Foundation
import PleatEvaluation

/// A scheduled job (`jobs/<name>.yaml`): the pipeline it runs, when, how often to retry a failed run,
/// and when a newly trained model may replace the one that serves.
public struct JobDefinition: Sendable {
    public var name: String
    public var file: String
    public var pipeline: PipelineDefinition
    /// Cron expression (minute hour day-of-month month day-of-week), for the scheduler that starts the
    /// job (the systemd timer or crontab in jobs/); Pleat checks its shape and shows it.
    public var schedule: String
    public var retry = Retry()
    /// When the newly trained model replaces the serving one: the pipeline's rule, with the job's
    /// `promotion:` keys over it.
    public var promotion: PromotionRule
    /// Warm start or full retrain, each night (`training:`).
    public var training = RetrainRule()

    public struct Retry: Sendable {
        /// Runs in all, the first included.
        public var attempts = 1
        public var delaySeconds = 60.0
    }

    /// Reads and checks a job file and the pipeline it names.
    public static func load(_ file: String) throws -> JobDefinition {
        let reader = DefinitionReader(file: file)
        let root = try reader.required(reader.root(), key: "")
        let fields = reader.mapping(root, allowed: ["pipeline", "schedule", "retry", "promotion", "training"], required: ["pipeline", "schedule"])
        let schedule = reader.string(fields["schedule"]) ?? ""
        if let value = fields["schedule"], !schedule.isEmpty, !isCron(schedule) {
            reader.problem(value, "'\(schedule)' is not a cron schedule: five fields (minute hour day month weekday), e.g. \"0 3 * * *\"")
        }
        var retry = Retry()
        if let value = fields["retry"] {
            let r = reader.mapping(value, allowed: ["attempts", "delay_seconds"])
            retry.attempts = reader.int(r["attempts"], in: 1...20) ?? retry.attempts
            retry.delaySeconds = reader.double(r["delay_seconds"], in: 0...86_400) ?? retry.delaySeconds
        }
        let pipelinePath = reader.path(fields["pipeline"], mustExist: true)
        try reader.check()
        let pipeline: PipelineDefinition
        do { pipeline = try PipelineDefinition.load(try reader.required(pipelinePath, key: "pipeline")) } catch let error as DefinitionError {
            throw DefinitionError(problems: [.init(file: file, line: fields["pipeline"]?.line, key: "pipeline", reason: "the pipeline has problems")] + error.problems)
        }
        let promotion = PipelineDefinition.promotion(fields["promotion"], default: pipeline.promotion, reader)
        var training = RetrainRule()
        if let value = fields["training"] {
            let t = reader.mapping(value, allowed: ["warm_start", "full_retrain_days", "max_valid_drop"])
            training.warmStart = reader.bool(t["warm_start"]) ?? training.warmStart
            training.fullRetrainDays = reader.double(t["full_retrain_days"], in: 0...3_650) ?? training.fullRetrainDays
            training.maxValidDrop = reader.double(t["max_valid_drop"], in: 0...1) ?? training.maxValidDrop
        }
        try reader.check()
        return JobDefinition(name: URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent, file: file, pipeline: pipeline,
                             schedule: schedule, retry: retry, promotion: promotion, training: training)
    }

    /// Five fields of numbers, ranges, lists, steps and `*` (or an @-macro such as @daily).
    static func isCron(_ s: String) -> Bool {
        if ["@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight"].contains(s) { return true }
        let fields = s.split(separator: " ", omittingEmptySubsequences: true)
        return fields.count == 5 && fields.allSatisfy { $0.allSatisfy { "0123456789*,-/".contains($0) } }
    }
}
