import Foundation
import PleatModel

extension ReportWriter {
    /// In plain words, before any table: whether each model beats the best baseline, and for a model that
    /// does not, what its training curve says about why: still rising at its last epoch (it stopped at
    /// its epoch limit, so more epochs may close the gap), or past its peak (its settings hold it back,
    /// not its length). Empty without a baseline to compare with.
    var verdict: [String] {
        guard let baseline = report.bestBaseline, let base = report.ranker(baseline)?.metrics.ndcg(at: 10) else { return [] }
        let models = report.rankers.compactMap { m in m.versusBestBaseline.map { (m, $0) } }
        guard !models.isEmpty else { return [] }
        let losing = models.filter { !($1.pValue < 0.05 && $1.meanDifference > 0) }
        guard !losing.isEmpty else {
            return ["Every model beats the best baseline, \(baseline) (NDCG@10 \(Self.format(base))), significantly (p < 0.05)."]
        }
        var lines = losing.map { m, c in
            let how = c.pValue < 0.05 ? "is significantly worse than" : "does not beat"
            let p = c.pValue < 1e-4 ? "p < 0.0001" : String(format: "p %.4f", c.pValue)
            return "\(m.name) (\(m.kind)) \(how) the best baseline, \(baseline): NDCG@10 \(Self.format(m.metrics.ndcg(at: 10))) against "
                + "\(Self.format(base)) (\(p)). " + Self.diagnosis(m.trainingCurve)
        }
        let winners = models.count - losing.count
        if winners > 0 { lines.append("The other \(winners == 1 ? "model beats" : "\(winners) models beat") it significantly.") }
        return lines
    }

    /// What a model's validation curve says about a loss to a baseline.
    static func diagnosis(_ curve: [EpochRecord]) -> String {
        let chosen = curve.selection.filter { $0.valid.ndcg(at: 10) != nil }
        guard let last = chosen.last, let best = chosen.max(by: { ($0.valid.ndcg(at: 10) ?? 0) < ($1.valid.ndcg(at: 10) ?? 0) }) else {
            return "Its training curve is not recorded."
        }
        if best.epoch == last.epoch {
            return "Its validation NDCG@10 was still rising at its last epoch (\(last.epoch), \(format(best.valid.ndcg(at: 10)))): "
                + "training stopped at its epoch limit, and more epochs may close the gap."
        }
        return "Its validation NDCG@10 peaked at epoch \(best.epoch) of \(last.epoch) (\(format(best.valid.ndcg(at: 10)))): more epochs "
            + "will not help; its settings (learning rate, dropout, size, loss) hold it back."
    }

    private static func format(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "–" }
}
