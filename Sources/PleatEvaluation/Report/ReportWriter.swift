import Foundation
import PleatCore
import PleatMetrics
import PleatModel

/// Writes an evaluation's three files into a directory: `report.html` (self-contained, inline SVG
/// charts), `summary.md` (the same tables for a README or a pull request) and `metrics.json`. The
/// tables are built once and rendered in both formats.
public struct ReportWriter {
    public let report: EvaluationReport
    public init(_ report: EvaluationReport) { self.report = report }

    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try JSONEncoder.snakeCase(pretty: true).encode(report).write(to: directory.appendingPathComponent("metrics.json"))
        try html().write(to: directory.appendingPathComponent("report.html"), atomically: true, encoding: .utf8)
        try markdown().write(to: directory.appendingPathComponent("summary.md"), atomically: true, encoding: .utf8)
    }

    // MARK: Tables

    struct Table {
        var title: String
        var note: String?
        var header: [String]
        var rows: [[String]]
        /// Per column: the row index of the best value, shown in bold.
        var best: [Int: Int] = [:]
    }

    private func number(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "–" }

    /// NDCG@1 equals HR@1, so the table leaves it out (metrics.json keeps it).
    private var ndcgCutoffs: [Int] { report.cutoffs.filter { $0 > 1 } }

    /// A ranker's name in charts: its kind when that is unique in the report, else kind and id suffix.
    private func chartLabel(_ r: EvaluationReport.RankerResult) -> String {
        guard r.kind != "baseline", report.rankers.filter({ $0.kind == r.kind }).count > 1 else { return r.kind == "baseline" ? r.name : r.kind }
        return "\(r.kind)-\(r.name.suffix(4))"
    }

    var overview: Table {
        let ks = report.cutoffs
        var table = Table(title: "Full-ranking metrics (\(report.split), \(population), \(Format.count(report.items)) items)",
                          note: seenNote + " Coverage and popularity describe the top-\(report.listLength) lists.",
                          header: ["ranker", "kind"] + ks.map { "HR@\($0)" } + ndcgCutoffs.map { "NDCG@\($0)" }
                              + ["MRR", "coverage@\(report.listLength)", "popularity ×mean"],
                          rows: [])
        let keys = ks.map { "hr@\($0)" } + ndcgCutoffs.map { "ndcg@\($0)" } + ["mrr"]
        for r in report.rankers {
            table.rows.append([r.name, r.kind] + keys.map { number(r.metrics[$0]) }
                              + [String(format: "%.3f", r.coverage), String(format: "%.2f", r.relativePopularity)])
        }
        for (c, key) in keys.enumerated() {
            if let best = report.rankers.indices.max(by: { (report.rankers[$0].metrics[key] ?? 0) < (report.rankers[$1].metrics[key] ?? 0) }) {
                table.best[c + 2] = best
            }
        }
        return table
    }

    /// What the seen-items rule made of the ranking, as the served lists follow it.
    private var seenNote: String {
        switch report.seen {
        case .exclude:
            "Seen items: exclude. Every item the user has not interacted with is a candidate, as in the served lists; a target the user "
                + "had already seen (\(Format.count(report.repeatTargets)) of \(Format.count(report.targets))) counts as a miss."
        case .include:
            "Seen items: include. Every item is a candidate, the user's own items too, as in the served lists "
                + "(\(Format.count(report.repeatTargets)) of \(Format.count(report.targets)) targets are items the user had already seen)."
        }
    }

    var significance: Table? {
        guard let baseline = report.bestBaseline else { return nil }
        let models = report.rankers.compactMap { m in m.versusBestBaseline.map { (m, $0) } }
        guard !models.isEmpty else { return nil }
        return Table(
            title: "Each model against the best baseline (\(baseline)), NDCG@10 per user",
            note: "Paired over the same users: mean difference with a bootstrap 95% interval (1,000 resamples) and a two-sided paired t-test.",
            header: ["model", "NDCG@10", "baseline", "difference", "95% interval", "t", "p", "verdict"],
            rows: models.map { m, comparison in
                [m.name, number(m.metrics.ndcg(at: 10)), number(report.ranker(baseline)?.metrics.ndcg(at: 10))]
                    + comparisonCells(comparison)
            })
    }

    var modelPairs: Table? {
        let models = report.rankers.compactMap { m in m.versusModels.map { (m.name, $0) } }
        guard !models.isEmpty else { return nil }
        return Table(
            title: "Each model against each other model, NDCG@10 per user",
            note: "Paired over the same users, as above: the row's model minus the column's.",
            header: ["model", "other", "difference", "95% interval", "t", "p", "verdict"],
            rows: models.flatMap { name, comparisons in
                comparisons.sorted { $0.key < $1.key }.map { other, c in [name, other] + comparisonCells(c) }
            })
    }

    /// Difference, interval, t, p and verdict of a paired comparison, as the tables show them.
    private func comparisonCells(_ c: PairedComparison) -> [String] {
        let verdict = c.pValue < 0.05 ? (c.meanDifference > 0 ? "better" : "worse") : "no significant difference"
        return [String(format: "%+.4f", c.meanDifference), String(format: "[%+.4f, %+.4f]", c.ciLow, c.ciHigh),
                String(format: "%.2f", c.t), c.pValue < 1e-4 ? "<0.0001" : String(format: "%.4f", c.pValue), verdict]
    }

    func breakdown(_ title: String, _ buckets: (EvaluationReport.RankerResult) -> [EvaluationReport.BucketResult]) -> Table {
        let labels = bucketLabels(buckets)
        var table = Table(title: title, note: "NDCG@10 per bucket; users per bucket in the header.",
                          header: ["ranker"] + labels.map { label in
                              "\(label) (\(Format.count(report.rankers.first.flatMap { buckets($0).first { $0.bucket == label }?.users } ?? 0)))"
                          }, rows: [])
        for r in report.rankers {
            let byLabel = Dictionary(uniqueKeysWithValues: buckets(r).map { ($0.bucket, $0.ndcg10) })
            table.rows.append([r.name] + labels.map { number(byLabel[$0]) })
        }
        return table
    }

    var sampled: Table? {
        let distributions = Set(report.rankers.flatMap { $0.sampled.keys }).sorted()
        guard !distributions.isEmpty else { return nil }
        return Table(title: "Against 100 sampled negatives (for comparison with papers that sample)",
                     note: "Sampled metrics overstate quality and can reorder models; the full-ranking table is the measure.",
                     header: ["ranker"] + distributions.flatMap { ["HR@10 (\($0))", "NDCG@10 (\($0))"] },
                     rows: report.rankers.map { r in
                         [r.name] + distributions.flatMap { [number(r.sampled[$0]?.hitRate(at: 10)), number(r.sampled[$0]?.ndcg(at: 10))] }
                     })
    }

    var tables: [Table] {
        [overview, significance, modelPairs, breakdown("By history length (events before the target)", \.byHistoryLength),
         breakdown("By popularity of the item to predict (share of items by training events)", \.byItemPopularity),
         breakdown("By target: an item the user had already seen (repeat) or a new one", \.byTarget),
         bucketLabels(\.byTargetBehaviour) == [Breakdown.noBehaviour] ? nil
            : breakdown("By the behaviour of the event to predict", \.byTargetBehaviour), sampled]
            .compactMap { $0 }
    }

    private func bucketLabels(_ buckets: (EvaluationReport.RankerResult) -> [EvaluationReport.BucketResult]) -> [String] {
        var labels: [String] = []
        for r in report.rankers { for b in buckets(r) where !labels.contains(b.bucket) { labels.append(b.bucket) } }
        return labels
    }

    // MARK: Charts

    var charts: [SVGChart] {
        var charts = [SVGChart(title: "Quality by ranker", yLabel: "metric", categories: report.rankers.map(chartLabel),
                               series: [("NDCG@10", "ndcg@10"), ("HR@10", "hr@10"), ("MRR", "mrr")].map { title, key in
                                   (title, report.rankers.map { $0.metrics[key] })
                               }, style: .bars)]
        let targets = bucketLabels(\.byTarget)
        charts.append(SVGChart(title: "NDCG@10 on repeat and new targets (seen = \(report.seen.rawValue))", yLabel: "NDCG@10",
                               categories: report.rankers.map(chartLabel),
                               series: targets.map { kind in (kind, report.rankers.map { r in r.byTarget.first { $0.bucket == kind }?.ndcg10 }) },
                               style: .bars))
        let labels = bucketLabels(\.byHistoryLength)
        charts.append(SVGChart(title: "NDCG@10 by history length", yLabel: "NDCG@10", categories: labels,
                               series: report.rankers.map { r in
                                   (chartLabel(r), labels.map { l in r.byHistoryLength.first { $0.bucket == l }?.ndcg10 })
                               }, style: .lines, colors: Array(report.rankers.indices)))
        let curves = report.rankers.filter { !$0.trainingCurve.isEmpty }
        if let epochs = curves.map({ $0.trainingCurve.map(\.epoch).max() ?? 0 }).max(), epochs > 0 {
            charts.append(SVGChart(title: "Training curves: validation NDCG@10 per epoch", yLabel: "valid NDCG@10",
                                   categories: (1...epochs).map { $0 % max(1, epochs / 10) == 0 || $0 == 1 ? String($0) : "" },
                                   series: curves.map { r in
                                       (chartLabel(r), (1...epochs).map { e in r.trainingCurve.first { $0.epoch == e }?.valid.ndcg(at: 10) })
                                   }, style: .lines, colors: report.rankers.indices.filter { !report.rankers[$0].trainingCurve.isEmpty }))
        }
        return charts
    }

    // MARK: Renderings

    private var heading: String { "Pleat offline evaluation" }

    /// "943 users", or "5,120 targets of 412 users" when users have several.
    private var population: String {
        report.targets == report.users ? "\(Format.count(report.users)) users"
            : "\(Format.count(report.targets)) targets of \(Format.count(report.users)) users"
    }

    private var context: String {
        "Split: \(report.split) · seen items: \(report.seen.rawValue) · \(population) · \(Format.count(report.items)) items · data up to ingest batch "
            + "\(report.snapshotBatch) · \(report.createdAt) · \(String(format: "%.1f", report.seconds)) s"
    }

    func html() -> String {
        var body = "<h1>\(heading)</h1>\n<p class=\"context\">\(escape(context))</p>\n"
        body += verdict.map { "<p class=\"verdict\">\(escape($0))</p>\n" }.joined()
        let tables = self.tables
        body += renderHTML(tables[0])
        body += "<div class=\"charts\">\n" + charts.map { "<figure>\($0.render())</figure>" }.joined(separator: "\n") + "\n</div>\n"
        for table in tables.dropFirst() { body += renderHTML(table) }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(heading)</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 24px 32px; color: #222; }
            h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 6px; }
            .context, .note { color: #666; font-size: 13px; margin: 2px 0 8px; }
            .verdict { font-size: 14px; margin: 6px 0; }
            table { border-collapse: collapse; font-size: 12.5px; }
            th, td { padding: 3px 6px; border-bottom: 1px solid #e4e4e4; text-align: right; white-space: nowrap; }
            th:first-child, td:first-child { text-align: left; } th { background: #f4f4f4; }
            td.best { font-weight: 700; }
            .charts { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 18px; } figure { margin: 0; }
            </style></head><body>
            \(body)</body></html>

            """
    }

    private func renderHTML(_ t: Table) -> String {
        var out = "<h2>\(escape(t.title))</h2>\n"
        if let note = t.note { out += "<p class=\"note\">\(escape(note))</p>\n" }
        out += "<table><thead><tr>" + t.header.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for (r, row) in t.rows.enumerated() {
            out += "<tr>" + row.enumerated().map { c, cell in t.best[c] == r ? "<td class=\"best\">\(escape(cell))</td>" : "<td>\(escape(cell))</td>" }
                .joined() + "</tr>\n"
        }
        return out + "</tbody></table>\n"
    }

    func markdown() -> String {
        var out = "# \(heading)\n\n\(context)\n\n" + verdict.map { "**\($0)**\n\n" }.joined()
            + "Charts: [report.html](report.html). Numbers: [metrics.json](metrics.json).\n"
        for t in tables {
            out += "\n## \(t.title)\n\n"
            if let note = t.note { out += "\(note)\n\n" }
            out += "| " + t.header.joined(separator: " | ") + " |\n|" + t.header.indices.map { $0 == 0 ? "---|" : "---:|" }.joined() + "\n"
            for (r, row) in t.rows.enumerated() {
                out += "| " + row.enumerated().map { c, cell in t.best[c] == r ? "**\(cell)**" : cell }.joined(separator: " | ") + " |\n"
            }
        }
        return out
    }
}
