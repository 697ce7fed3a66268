import Foundation
import PleatCore

extension PromotionDecision {
    /// The decision as Markdown: what was compared, the figures and the outcome.
    public var markdown: String {
        var lines = ["## Promotion of \(candidate)", "",
                     "| ranker | NDCG@10 on \(users) held-out users (seen = \(seen.rawValue)) | candidate − it (p) |", "|---|---|---|",
                     String(format: "| %@ (candidate) | %.4f | |", candidate, candidateNdcg10),
                     String(format: "| %@ (best baseline) | %.4f | %+.4f (%.2g) |", bestBaseline, baselineNdcg10,
                            versusBestBaseline.meanDifference, versusBestBaseline.pValue)]
        if let serving, let servingNdcg10, let versusServing {
            lines.append(String(format: "| %@ (serving) | %.4f | %+.4f (%.2g) |", serving, servingNdcg10, versusServing.meanDifference, versusServing.pValue))
        }
        lines += ["", String(format: "Rule: no more than %.4f below the serving model, above the best of %@ with p < %.2g.", rule.maxDrop,
                             rule.baselines.map(\.rawValue).joined(separator: ", "), rule.significance),
                  "**\(promoted ? "Promoted" : forced ? "Not promoted; served with --force" : "Not promoted; not served")**: \(reason)", ""]
        return lines.joined(separator: "\n")
    }

    /// Adds the decision to an evaluation report's directory: `promotion.json`, and its section at the end
    /// of `summary.md`.
    public func append(toReport directory: URL) throws {
        try DurableFile.write(try JSONEncoder.snakeCase().encode(self), to: directory.appendingPathComponent("promotion.json"))
        let summary = directory.appendingPathComponent("summary.md")
        let existing = (try? String(contentsOf: summary, encoding: .utf8)) ?? ""
        try (existing + "\n" + markdown).write(to: summary, atomically: true, encoding: .utf8)
    }
}
