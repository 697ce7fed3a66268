import Foundation
import PleatCore
import PleatMetrics
import PleatScoring
import PleatStorage
import PleatModel
import PleatHistories

/// `pleat evaluate` as a library call: registered models and baselines ranked on one split of one data
/// snapshot, with full-ranking metrics, list coverage and popularity, breakdowns, and each model's
/// paired significance test against the best baseline.
public struct OfflineEvaluation {
    public enum Examples: String, Sendable, Codable, CaseIterable {
        /// Each user's held-out last event (as in the registry's test metrics).
        case test
        /// The event before it (what training selected the best epoch on).
        case valid
    }

    public var modelIds: [String]
    public var baselines: [Baseline] = Baseline.allCases
    public var examples = Examples.test
    /// Rank instead the target events at or after this time (Unix seconds or ISO-8601), each from every
    /// event before it, on all committed data: what models trained before then do on the days after (a
    /// forward-in-time test, the one a served list faces: live scoring ranks from the latest history).
    /// Models of different data snapshots compare here; each ranks the items it knows, so a target it has
    /// never seen is a miss. nil: the models' own split and snapshot (`examples`).
    public var after: String?
    /// With `after`: which of a user's events at or after it are targets.
    public var afterTargets = AfterTargets.all

    public enum AfterTargets: String, Sendable, CaseIterable {
        /// Every target event, each ranked from the events before it (many per active user).
        case all
        /// Each user's first target event only (one per user, as the test split).
        case first
    }
    /// The seen-items rule every ranker is measured under; nil: the models' own (which must agree), or
    /// `SeenItems.default` for baselines alone.
    public var seen: SeenItems?
    /// Length of the lists that coverage and popularity describe.
    public var listLength = 10
    /// Sampled-negative metrics to add, e.g. [.uniform]; none by default (full ranking is the measure).
    public var sampled: [NegativeSampler.Distribution] = []
    public var negatives = 100
    public var seed: UInt64 = 1
    /// Examples per model call.
    public var batchSize = 256
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public init(modelIds: [String]) { self.modelIds = modelIds }

    public func run(db: PostgresConnection) throws -> EvaluationReport {
        let started = Date()
        let registry = ModelRegistry(db)
        let records = try modelIds.map { id in
            guard let record = try registry.find(id) else { throw EvaluationError("no model \(id) in the registry (see `pleat models list`)") }
            return record
        }
        guard !records.isEmpty || !baselines.isEmpty else { throw EvaluationError("nothing to evaluate: name models or baselines") }
        let (split, snapshot) = try Self.sharedSplit(records, after: after, db: db)
        let chosen = after == nil ? (examples == .test ? split.testExamples : split.validationExamples)
            : afterTargets == .all ? split.laterExamples : split.testExamples
        let described = after.map { "after \($0)" + (afterTargets == .first ? " (first events)" : "") } ?? examples.rawValue
        let users = Set(chosen.map(\.user)).count
        guard !chosen.isEmpty else {
            throw EvaluationError(after == nil ? "no \(examples.rawValue) examples: users need at least 3 events"
                                  : "no examples after \(after ?? ""): no user has an event then and one before")
        }
        let counts = split.trainCounts
        let seen = try self.seen ?? Self.sharedRule(records)
        let behaviourNames = Dictionary(try EventTypeTable(db).ids().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let repeats = chosen.filter(\.isRepeat).count
        log("seen = \(seen.rawValue); \(Format.count(repeats)) of \(Format.count(chosen.count)) targets are items the user has already seen")
        log("evaluating on \(Format.count(chosen.count)) \(described) targets of \(Format.count(users)) users, \(Format.count(split.vocabulary.count)) items "
            + "(data up to ingest batch \(snapshot))")

        var results: [EvaluationReport.RankerResult] = [], rankLists: [[Int]] = []
        let entries: [(name: String, kind: String, title: String, record: ModelRecord?, ranker: () throws -> any ItemRanker)] =
            baselines.map { b in (b.rawValue, "baseline", b.title, nil, { b.ranker(split) }) }
            + records.map { r in (r.id, r.kind.rawValue, r.kind.rawValue, r, { try Self.ranker(r, on: split, db: db, batchSize: batchSize) }) }
        for entry in entries {
            let start = Date()
            let ranker = try entry.ranker()
            let (ranks, lists) = Evaluator.ranked(ranker, chosen, seen: seen, listLength: listLength)
            rankLists.append(ranks)
            var sampledMetrics: [String: MetricSummary] = [:]
            for distribution in sampled {
                let sampler = NegativeSampler(counts: counts, distribution: distribution)
                sampledMetrics[distribution.rawValue] = Evaluator.evaluateSampled(ranker, chosen, seen: seen, sampler: sampler, negatives: negatives, seed: seed).summary
            }
            let listed = lists.joined()
            let catalogueMean = Double(counts.dropFirst().reduce(0, +)) / Double(max(split.vocabulary.count, 1))
            let meanPopularity = listed.isEmpty ? 0 : Double(listed.reduce(0) { $0 + counts[Int($1)] }) / Double(listed.count)
            let curve = entry.record?.history.selection ?? []
            let result = EvaluationReport.RankerResult(
                name: entry.name, kind: entry.kind, title: entry.title, metrics: Evaluator.metrics(ranks: ranks).summary,
                coverage: Double(Set(listed).count) / Double(max(split.vocabulary.count, 1)),
                meanPopularity: meanPopularity, relativePopularity: meanPopularity / max(catalogueMean, 1e-9),
                sampled: sampledMetrics,
                byHistoryLength: Breakdown.byHistoryLength(chosen, ranks),
                byItemPopularity: Breakdown.byItemPopularity(chosen, ranks, trainCounts: counts),
                byTarget: Breakdown.byTarget(chosen, ranks),
                byTargetBehaviour: Breakdown.byTargetBehaviour(chosen, ranks, names: behaviourNames),
                versusBestBaseline: nil, trainingCurve: curve)
            results.append(result)
            log(String(format: "  %@: NDCG@10 %.4f, HR@10 %.4f, MRR %.4f, coverage@%d %.3f (%.1f s)", entry.name,
                       result.metrics.ndcg(at: 10) ?? 0, result.metrics.hitRate(at: 10) ?? 0, result.metrics.mrr, listLength,
                       result.coverage, Date().timeIntervalSince(start)))
        }

        let gains = rankLists.map(Breakdown.ndcg10)  // per user, in the order of `results`
        let bestIndex = results.indices.filter { results[$0].kind == "baseline" }
            .max { (results[$0].metrics.ndcg(at: 10) ?? 0) < (results[$1].metrics.ndcg(at: 10) ?? 0) }
        let best = bestIndex.map { results[$0] }
        if let bestIndex {
            for i in results.indices where results[i].kind != "baseline" {
                results[i].versusBestBaseline = PairedComparison(gains[i], gains[bestIndex], seed: seed)
            }
        }
        let models = results.indices.filter { results[$0].kind != "baseline" }
        for i in models where models.count > 1 {
            results[i].versusModels = Dictionary(uniqueKeysWithValues: models.filter { $0 != i }.map { j in
                (results[j].name, PairedComparison(gains[i], gains[j], seed: seed))
            })
        }
        return EvaluationReport(createdAt: ISO8601DateFormatter().string(from: started), split: described, seen: seen,
                                snapshotBatch: snapshot, users: users, targets: chosen.count, repeatTargets: repeats, items: split.vocabulary.count, cutoffs: RankingMetrics.defaultCutoffs,
                                listLength: listLength, bestBaseline: best?.name, rankers: results,
                                seconds: Date().timeIntervalSince(started))
    }

    /// Runs the evaluation, writes its report files into `directory` and records it in `evaluation_runs`.
    public func run(db: PostgresConnection, reportingTo directory: URL) throws -> (report: EvaluationReport, runId: Int) {
        let report = try run(db: db)
        try ReportWriter(report).write(to: directory)
        return (report, try EvaluationRunLog(db).record(report.runLogEntry(reportDirectory: directory.standardizedFileURL.path)))
    }

    /// The seen-items rule the models were trained under, which must be one: a report compares rankers
    /// on the same lists. `SeenItems.default` when there are no models.
    static func sharedRule(_ records: [ModelRecord]) throws -> SeenItems {
        let rules = try records.map { try $0.seen }
        guard let first = rules.first else { return .default }
        if let other = rules.firstIndex(where: { $0 != first }) {
            throw EvaluationError("\(records[other].id) was trained under seen = \(rules[other].rawValue), \(records[0].id) under seen = "
                                  + "\(first.rawValue): choose one rule for the report with --seen")
        }
        return first
    }

    /// A registered model as a ranker over the split's items (translated when its vocabulary differs).
    static func ranker(_ record: ModelRecord, on split: SequenceSplit, db: PostgresConnection, batchSize: Int) throws -> any ItemRanker {
        let model = try ScoringModel.load(record, db: db, batchSize: batchSize)
        guard model.databaseIds != split.vocabulary.databaseIds else { return model.ranker }
        return TranslatedRanker(model: model.ranker, modelDatabaseIds: model.databaseIds, splitVocabulary: split.vocabulary)
    }

    /// The split every ranker is measured on: the models' own data snapshot, item filter and split
    /// rule (which must agree), or all committed data with the default settings for baselines alone.
    /// With `after`, all committed data split at that time, every item kept (`min_count` 1: a target
    /// is a real event, whatever a model's vocabulary); the models must agree on their target events only.
    public static func sharedSplit(_ records: [ModelRecord], after: String? = nil, db: PostgresConnection) throws -> (SequenceSplit, Int) {
        // The split settings of each model's training config (the rest of the config does not matter here).
        let rules = try records.map { try JSONDecoder.snakeCase.decode(SplitRule.self, from: Data($0.config.utf8)) }
        if let after {
            let targets = rules.first?.targetEvents
            if let other = rules.firstIndex(where: { $0.targetEvents != targets }) {
                throw EvaluationError("\(records[other].id) and \(records[0].id) predict different target_events: evaluate them separately")
            }
            let rule = SplitRule(minCount: 1, split: .time, cutoff: after, targetEvents: targets)
            do { _ = try rule.cutoffSeconds() } catch { throw EvaluationError("--after: \(error)") }
            return try split(rule, upToBatch: nil, keepLaterEvents: true, db: db)
        }
        let rule = rules.first ?? SplitRule()
        for (record, other) in zip(records, rules).dropFirst() {
            guard record.snapshotBatch == records[0].snapshotBatch else {
                throw EvaluationError("\(record.id) was trained on data up to ingest batch \(record.snapshotBatch), \(records[0].id) up to batch "
                                      + "\(records[0].snapshotBatch): models compared in one report must share their data")
            }
            guard other == rule else {
                throw EvaluationError("\(record.id) and \(records[0].id) use different splits (split, cutoff, min_count or target_events): evaluate them separately")
            }
        }
        return try split(rule, upToBatch: records.first?.snapshotBatch, db: db)
    }

    /// The data up to ingest batch `upToBatch` (nil: all committed) split by `rule`, and its snapshot.
    private static func split(_ rule: SplitRule, upToBatch: Int?, keepLaterEvents: Bool = false, db: PostgresConnection) throws -> (SequenceSplit, Int) {
        let histories = try HistoryLoader.load(from: db, upToBatch: upToBatch)
        return (try SequenceSplit(histories, rule: rule, eventTypes: try EventTypeTable(db).ids(), keepLaterEvents: keepLaterEvents),
                histories.snapshotBatch)
    }
}

/// An evaluation that cannot run as asked, with the reason.
public struct EvaluationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
