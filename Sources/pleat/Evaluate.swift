import ArgumentParser
import Foundation
import PleatCore
import PleatTensor
import PleatEvaluation
import PleatMetrics
import PleatStorage
import PleatTraining
import PleatModel

extension OfflineEvaluation.Examples: ExpressibleByArgument {}
extension OfflineEvaluation.AfterTargets: ExpressibleByArgument {}

/// `pleat evaluate`: offline report of registered models against baselines on one split.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate registered models and baselines on the same split and write a report.",
        discussion: """
            Full-ranking HR@K and NDCG@K (K = 1, 5, 10, 20, 50), MRR, coverage and popularity of the top-10 lists, \
            breakdowns by history length and item popularity, and each model's paired test against the best \
            baseline. DIR gets report.html, summary.md and metrics.json; the run is recorded in evaluation_runs.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Registered model ids, comma-separated ('latest' for the newest).") var models = ""
    @Option(help: "Baselines, comma-separated: \(Baseline.allCases.map(\.rawValue).joined(separator: ", ")); or none.")
    var baselines = Baseline.allCases.map(\.rawValue).joined(separator: ",")
    @Option(help: "Report directory (default: <home>/reports/<time>, the newest linked as <home>/reports/latest).") var report: String?
    @Option(help: "Which held-out events: test or valid.") var split = OfflineEvaluation.Examples.test
    @Option(help: ArgumentHelp("Rank the events at or after this time (Unix seconds or ISO-8601) instead, each from every event before it, on all data.",
                               discussion: "A forward-in-time test: models trained on data before then, whatever their snapshots, on what came after."))
    var after: String?
    @Option(help: "With --after: all (every event from then on) or first (each user's first).") var afterTargets = OfflineEvaluation.AfterTargets.all
    @Option(help: "Seen items: exclude (a target the user has seen is a miss, as served lists never repeat) or include (default: the models' rule, else exclude).")
    var seen: SeenItems?
    @Option(help: "Also rank against 100 sampled negatives: uniform, popularity (comma-separated).") var sampled = ""
    @Flag(help: "Print the metrics JSON as the last stdout line.") var json = false

    func run() throws {
        try BLASLibrary.load()  // a clear error now rather than a stop at the first product
        let db = try global.database.connect()
        let evaluation = try Self.evaluation(models: models, baselines: baselines, sampled: sampled, db: db)
        var chosen = evaluation
        chosen.examples = split
        (chosen.seen, chosen.after, chosen.afterTargets) = (seen, after, afterTargets)
        let directory = report.map { URL(fileURLWithPath: $0) } ?? ReportRuns.next(in: global.pleatHome.url.appendingPathComponent("reports"))
        let result = try Self.run(chosen, db: db, directory: directory)
        if report == nil { try ReportRuns.markLatest(directory) }
        if json { try printJSONLine(result) } else { print(directory.appendingPathComponent("report.html").path) }
    }

    /// Parses the comma-separated lists into an evaluation.
    static func evaluation(models: String, baselines: String, sampled: String, db: PostgresConnection) throws -> OfflineEvaluation {
        func list(_ s: String) -> [String] { s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        let ids = try list(models).map { id in
            guard id == "latest" else { return id }
            guard let newest = try ModelRegistry(db).list(limit: 1).first else { throw ValidationError("no trained model: run `pleat train` first") }
            return newest.id
        }
        var evaluation = OfflineEvaluation(modelIds: ids)
        evaluation.baselines = try parseBaselines(baselines)
        evaluation.sampled = try list(sampled).map {
            guard let d = NegativeSampler.Distribution(rawValue: $0) else { throw ValidationError("unknown --sampled '\($0)': use uniform or popularity") }
            return d
        }
        return evaluation
    }

    /// A comma-separated list of baselines (`none`: no baseline).
    static func parseBaselines(_ text: String) throws -> [Baseline] {
        try text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != "none" }.map {
            guard let b = Baseline(rawValue: $0) else { throw ValidationError("unknown baseline '\($0)': use \(Baseline.allCases.map(\.rawValue).joined(separator: ", ")) or none") }
            return b
        }
    }

    /// Evaluates, writes the report files, records the run and prints the overview table (stderr).
    static func run(_ evaluation: OfflineEvaluation, db: PostgresConnection, directory: URL) throws -> EvaluationReport {
        let (report, id) = try evaluation.run(db: db, reportingTo: directory)
        var table = TextTable(["ranker", "HR@10", "NDCG@10", "MRR", "coverage@\(report.listLength)", "vs best baseline (p)"])
        for r in report.rankers {
            let versus = r.versusBestBaseline.map { String(format: "%+.4f (%.3g)", $0.meanDifference, $0.pValue) } ?? ""
            table.add([r.name, String(format: "%.4f", r.metrics.hitRate(at: 10) ?? 0), String(format: "%.4f", r.metrics.ndcg(at: 10) ?? 0),
                       String(format: "%.4f", r.metrics.mrr), String(format: "%.3f", r.coverage), versus])
        }
        let pairs = report.rankers.flatMap { r in
            (r.versusModels ?? [:]).sorted { $0.key < $1.key }.map { other, c in
                String(format: "\n%@ against %@: NDCG@10 %+.4f (p %.3g)", r.name, other, c.meanDifference, c.pValue)
            }
        }
        note("seen = \(report.seen.rawValue); \(Format.count(report.repeatTargets)) of \(Format.count(report.users)) targets are repeats\n"
             + table.render() + pairs.joined() + "\nevaluation run \(id): report in \(directory.path)/report.html, summary.md, metrics.json")
        return report
    }
}
