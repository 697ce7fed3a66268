import Foundation
import PleatModel
import PleatMetrics
import PleatStorage

/// Applies a `PromotionRule` to a trained model.
public enum Promotion {
    /// Ranks `candidate`, the `serving` model and the rule's baselines on the candidate's test examples
    /// (each user's last target, held out from training and from the choice of epochs; a serving model
    /// trained on older data never saw newer ones, and its own held-out events were never trained on),
    /// under the candidate's seen-items rule, and decides.
    public static func decide(candidate: ModelRecord, serving: ModelRecord?, rule: PromotionRule, db: PostgresConnection,
                              batchSize: Int = 256) throws -> PromotionDecision {
        let (split, _) = try OfflineEvaluation.sharedSplit([candidate], db: db)
        let examples = split.testExamples
        guard !examples.isEmpty else {
            throw EvaluationError("cannot decide whether \(candidate.id) may serve: no held-out users (users need at least 3 events)")
        }
        let seen = try candidate.seen
        func gains(_ ranker: any ItemRanker) -> [Double] { Breakdown.ndcg10(Evaluator.ranked(ranker, examples, seen: seen).ranks) }
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        let candidateGains = gains(try OfflineEvaluation.ranker(candidate, on: split, db: db, batchSize: batchSize))
        let baselines = rule.baselines.map { ($0, gains($0.ranker(split))) }
        // The best baseline; the first listed on ties.
        let best = baselines.dropFirst().reduce(baselines[0]) { mean($1.1) > mean($0.1) ? $1 : $0 }
        let versusBaseline = PairedComparison(candidateGains, best.1)
        let servingGains = try serving.map { gains(try OfflineEvaluation.ranker($0, on: split, db: db, batchSize: batchSize)) }
        let versusServing = servingGains.map { PairedComparison(candidateGains, $0) }

        let (candidateMean, baselineMean) = (mean(candidateGains), mean(best.1))
        var failures: [String] = []
        if !(versusBaseline.meanDifference > 0 && versusBaseline.pValue < rule.significance) {
            failures.append(String(format: "not significantly better than the best baseline, %@ (%.4f against %.4f, p %.2g; needs p < %.2g)",
                                   best.0.rawValue, candidateMean, baselineMean, versusBaseline.pValue, rule.significance))
        }
        if let servingGains, let serving, mean(servingGains) - candidateMean > rule.maxDrop {
            failures.append(String(format: "worse than the serving model %@ by %.4f (%.4f against %.4f), more than max_drop %.4f",
                                   serving.id, mean(servingGains) - candidateMean, candidateMean, mean(servingGains), rule.maxDrop))
        }
        let reason = failures.isEmpty
            ? String(format: "NDCG@10 %.4f on %d held-out users: above %@ (%.4f, p %.2g)%@", candidateMean, examples.count, best.0.rawValue,
                     baselineMean, versusBaseline.pValue,
                     servingGains.map { String(format: " and within max_drop %.4f of %@ (%.4f)", rule.maxDrop, serving?.id ?? "", mean($0)) } ?? "")
            : failures.joined(separator: "; ")
        return PromotionDecision(candidate: candidate.id, serving: serving?.id, rule: rule, seen: seen, users: examples.count,
                                 candidateNdcg10: candidateMean, servingNdcg10: servingGains.map(mean), bestBaseline: best.0.rawValue,
                                 baselineNdcg10: baselineMean, versusBestBaseline: versusBaseline, versusServing: versusServing,
                                 promoted: failures.isEmpty, reason: reason)
    }

    /// The decision on `candidate` against the model `cache` serves, recorded in `promotions` (with
    /// `forced` set when `force` activates a model the rule keeps out); nil when `candidate` is the
    /// serving model already (rescoring it changes nothing about which model serves). What `pleat score`,
    /// pipelines and jobs ask before they activate a model's lists.
    public static func review(_ candidate: ModelRecord, servedBy cache: RecommendationCache, rule: PromotionRule, force: Bool,
                              db: PostgresConnection, batchSize: Int = 256) throws -> PromotionDecision? {
        let servingId = try cache.activeSet()?.modelId
        guard servingId != candidate.id else { return nil }
        let serving = try servingId.flatMap { try ModelRegistry(db).find($0) }
        var decision = try decide(candidate: candidate, serving: serving, rule: rule, db: db, batchSize: batchSize)
        decision.forced = force && !decision.promoted
        try PromotionLog(db).record(modelId: decision.candidate, servingModelId: decision.serving, promoted: decision.promoted,
                                    forced: decision.forced, decision: decision)
        return decision
    }
}
