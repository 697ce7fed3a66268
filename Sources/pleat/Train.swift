import ArgumentParser
import Foundation
import PleatCore
import PleatTensor
import PleatMetrics
import PleatStorage
import PleatTraining
import PleatModel
import PleatMPI
import PleatScoring

/// `pleat train`: trains one model from the interactions in PostgreSQL and registers it.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train SASRec, BERT4Rec or HSTU on the stored interactions and register the model.",
        discussion: """
            Settings come from the documented defaults (TrainingConfig), then --config FILE (JSON, or \
            key = value lines), then each --set key=value, e.g. --set epochs=50 --set sasrec.loss=bce \
            --set hstu.encoder.dropout=0.3. --print-config shows every key with its resolved value.

            Under mpirun or srun the ranks train one model together, data-parallel: each rank on its own \
            user shard, gradients averaged every step; rank 0 logs, checkpoints, registers and prints \
            (docs/benchmarks/scale-out.md: Data-parallel training).
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Model: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")).") var model: ModelKind?
    @Option(help: "Config file (JSON object, or key = value lines).") var config: String?
    @Option(name: .customLong("set"), help: "Override one config key: key=value (repeatable).") var overrides: [String] = []
    @Option(help: "Split: leave-one-out (default) or time (with --cutoff).") var split: TrainingConfig.Split?
    @Option(help: "Time split cutoff: Unix seconds or ISO-8601 date.") var cutoff: String?
    @Option(help: "Fold the history older than max_length by: category, cluster, time (HSTU).") var foldKey: FoldSettings.Key?
    @Option(help: "Artifacts directory (default: <home>/models).") var artifacts: String?
    @Option(name: .customLong("warm-start"), help: ArgumentHelp(
        "Start from a registered model: its id, or 'serving' (the model whose lists are served).",
        discussion: "Its stored config is the base the config file and --set apply to; its vocabulary gains the items new since its data, "
            + "and the run trains the users with newer events plus a replay sample (warm_start.* keys)."))
    var warmStart: String?
    @OptionGroup var cacheOptions: CacheOptions
    @Flag(help: "Continue the newest unregistered run of this model (from its last checkpoint; or register it, if only that was missing).") var resume = false
    @Flag(help: "Print the resolved config as JSON and exit.") var printConfig = false
    @Flag(help: "Print one JSON line with the results last.") var json = false

    func run() throws {
        try BLASLibrary.load()  // a clear error now rather than a stop at the first product
        let parent = try warmStart.map(warmStartParent)
        var resolved = try TrainingConfig.resolve(base: parent.map { try TrainingConfig.stored($0.config, source: "model \($0.id)") } ?? TrainingConfig(),
                                                  model: model, file: config.map { URL(fileURLWithPath: $0) }, overrides: overrides)
        if let parent { resolved.warmStart.parent = parent.id }
        // The typed options win over the file and --set, as the last word on the command line.
        if let split { resolved.split = split }
        if let cutoff { resolved.cutoff = cutoff }
        if let foldKey { resolved.fold.key = foldKey }
        if printConfig {
            print(String(decoding: try resolved.jsonData(pretty: true), as: UTF8.self))
            return
        }
        let db = try global.database.connect()
        let migrator = Migrator(migrations: try Migration.Source.postgres.migrations())
        if let missing = try migrator.pending(db).first {
            throw ValidationError("the database lacks migration \(missing.version) \(missing.name): run `pleat db migrate`")
        }
        var job = TrainingJob(config: resolved, artifacts: artifacts.map { URL(fileURLWithPath: $0) }
                              ?? global.pleatHome.url.appendingPathComponent("models"))
        job.resume = resume
        job.databaseURL = global.database.url
        let communicator = try Communicator.world()
        job.communicator = communicator
        if communicator.rank != 0 { (job.showProgress, job.log) = (false, { _ in }) }
        let result: TrainingJob.Result
        do {
            result = try job.run(db: db)
        } catch where communicator.isDistributed {
            // The other ranks may be waiting for this one in a collective: end the whole job.
            FileHandle.standardError.write(Data("pleat train: rank \(communicator.rank) of \(communicator.size): \(error)\n".utf8))
            communicator.abort(code: 1)
        }
        guard communicator.rank == 0 else { return }
        let record = result.record
        let seen = try record.seen
        var table = TextTable(["split", "users", "HR@10", "NDCG@10", "MRR"])
        let refitEpochs = record.history.refitPass.count, test = refitEpochs > 0 ? "test (refit)" : "test"
        func row(_ name: String, _ users: Int?, _ m: MetricSummary) {
            table.add([name, users.map(Format.count) ?? "", String(format: "%.4f", m.hitRate(at: 10) ?? 0), String(format: "%.4f", m.ndcg(at: 10) ?? 0),
                       String(format: "%.4f", m.mrr)])
        }
        row("valid", nil, record.valid)
        row(test, result.outcome.map { $0.testTargets.repeats.count + $0.testTargets.new.count }, record.test)
        if let outcome = result.outcome {
            row("  repeat targets", outcome.testTargets.repeats.count, outcome.testTargets.repeats.summary)
            row("  new targets", outcome.testTargets.new.count, outcome.testTargets.new.summary)
            for other in SeenItems.allCases where other != seen {
                if let m = outcome.testByRule[other.rawValue] { row("\(test), seen = \(other.rawValue)", nil, m) }
            }
        }
        note("\(record.id): best epoch \(record.bestEpoch) of \(record.epochs)\(refitEpochs > 0 ? ", refit \(refitEpochs) epochs" : ""), "
             + "\(Format.duration(record.totalSeconds)); seen = \(seen.rawValue)"
             + headNote(resolved, shift: result.outcome?.repeatShift) + "\n" + table.render())
        if json {
            try printJSONLine(TrainSummary(modelId: record.id, model: record.kind.rawValue, users: record.users, items: record.items,
                                           events: record.events, bestEpoch: record.bestEpoch,
                                           epochs: record.epochs, seconds: record.totalSeconds, trainSeconds: record.trainSeconds,
                                           secondsToBest: record.history.seconds(through: record.bestEpoch),
                                           seen: seen, valid: record.valid, test: record.test, testByRule: result.outcome?.testByRule,
                                           testTargets: result.outcome?.testTargets.summary,
                                           testSampled: record.testSampled, repeatShift: result.outcome?.repeatShift, history: record.history,
                                           artifactPath: record.artifactPath,
                                           artifactSha256: record.artifactSHA256))
        } else {
            print(record.id)
        }
    }

    /// The registered model `--warm-start` names: an id, or `serving`, the cache's active model.
    private func warmStartParent(_ name: String) throws -> ModelRecord {
        var id = name
        if name == "serving" {
            guard let active = try RecommendationCache(path: cacheOptions.path(global)).activeSet() else {
                throw ValidationError("--warm-start serving: no model serves yet (\(cacheOptions.path(global)) has no active lists): name a model id")
            }
            id = active.modelId
        }
        guard let record = try ModelRegistry(try global.database.connect()).find(id) else {
            throw ValidationError("--warm-start: no model \(id) in the registry (see `pleat models list`)")
        }
        return record
    }

    /// Whether the model has the repeat head, and the shift δ validation chose for it.
    private func headNote(_ config: TrainingConfig, shift: Float?) -> String {
        guard config.model != .bert4rec else { return "" }
        let on = config.model == .sasrec ? config.sasrec.repeat : config.hstu.repeat
        return ", repeat head \(on ? "on" : "off")" + (shift.map { String(format: " (shift δ %.2f)", $0) } ?? "")
    }
}

/// The JSON line of `pleat train --json` (keys snake_case; metric keys as in RankingMetrics.summary).
struct TrainSummary: Encodable {
    var modelId: String, model: String, users: Int, items: Int, events: Int, bestEpoch: Int, epochs: Int, seconds: Double, trainSeconds: Double, secondsToBest: Double
    /// The seen-items rule validation and `test` were measured under (and scoring applies).
    var seen: SeenItems
    var valid: MetricSummary, test: MetricSummary
    /// Test metrics under each seen-items rule, by name (absent when a resumed run only registered).
    var testByRule: [String: MetricSummary]?
    /// Test metrics under `seen`, targets the user had already seen and new ones apart (absent likewise).
    var testTargets: RepeatBreakdown.Summary?
    var testSampled: [String: MetricSummary]
    /// The repeat head's ranking shift δ that validation chose (absent without the head, or when a resumed
    /// run only registered).
    var repeatShift: Float?
    /// Every epoch: loss, validation metrics, seconds, and test metrics with `test_curve`.
    var history: [EpochRecord]
    var artifactPath: String, artifactSha256: String
}

extension ModelKind: ExpressibleByArgument {}
extension TrainingConfig.Split: ExpressibleByArgument {}
extension FoldSettings.Key: ExpressibleByArgument {}
