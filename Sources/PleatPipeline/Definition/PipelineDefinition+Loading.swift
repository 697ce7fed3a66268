import Foundation
import PleatEvaluation
import PleatIngest
import PleatMetrics
import PleatTraining
import PleatModel

extension PipelineDefinition {
    static let keys = ["name", "seen", "sources", "models", "scoring", "evaluation", "promotion"]
    static let sourceKeys = ["path", "format", "items", "items_format", "columns", "max_reject_rate", "synthetic"]
    static let columnKeys = ["user", "item", "time", "event", "value", "category"]
    static let syntheticKeys = ["users", "items", "categories", "median_events", "min_events", "max_events", "seed"]

    /// Reads and checks a pipeline file; throws a `DefinitionError` listing every problem.
    public static func load(_ file: String) throws -> PipelineDefinition {
        let reader = DefinitionReader(file: file)
        let root = try reader.required(reader.root(), key: "")
        let top = reader.mapping(root, allowed: keys, required: ["sources", "models"])
        let fallbackName = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let seen = reader.choice(top["seen"], SeenItems.self) ?? .default
        var definition = PipelineDefinition(
            file: file, name: reader.string(top["name"]) ?? fallbackName, seen: seen,
            sources: top["sources"].map { reader.list($0).compactMap { source($0, reader) } } ?? [],
            models: top["models"].map { reader.list($0).compactMap { model($0, seen: seen, reader) } } ?? [],
            scoring: Scoring(), evaluation: Evaluation())
        if let value = top["sources"], definition.sources.isEmpty, reader.problems.isEmpty { reader.problem(value, "name at least one source") }
        if let value = top["models"], definition.models.isEmpty, reader.problems.isEmpty { reader.problem(value, "name at least one model") }
        if let value = top["scoring"] { definition.scoring = scoring(value, models: definition.models, reader) }
        if let value = top["evaluation"] { definition.evaluation = evaluation(value, reader) }
        definition.promotion = promotion(top["promotion"], default: PromotionRule(baselines: definition.evaluation.baselines), reader)
        try reader.check()
        return definition
    }

    /// A `promotion:` section (a pipeline's, or a job's over its pipeline's): `max_drop`, `significance`,
    /// `baselines`; keys left out keep `base`'s values.
    static func promotion(_ value: DefinitionReader.Value?, default base: PromotionRule, _ reader: DefinitionReader) -> PromotionRule {
        guard let value else { return base }
        let fields = reader.mapping(value, allowed: ["max_drop", "significance", "baselines"])
        var rule = base
        rule.maxDrop = reader.double(fields["max_drop"], in: 0...1) ?? rule.maxDrop
        rule.significance = reader.double(fields["significance"], in: 1e-9...1) ?? rule.significance
        if let list = fields["baselines"] {
            let baselines = reader.list(list).compactMap { reader.choice($0, Baseline.self) }
            if baselines.isEmpty { reader.problem(list, "name at least one baseline (\(Baseline.allCases.map(\.rawValue).joined(separator: ", ")))") }
            else { rule.baselines = baselines }
        }
        return rule
    }

    private static func source(_ value: DefinitionReader.Value, _ reader: DefinitionReader) -> Source? {
        let fields = reader.mapping(value, allowed: sourceKeys)
        if let synthetic = fields["synthetic"] {
            if fields.count > 1 { reader.problem(value, "a synthetic source takes no other keys (\(fields.keys.filter { $0 != "synthetic" }.sorted().joined(separator: ", ")))") }
            let s = reader.mapping(synthetic, allowed: syntheticKeys)
            var settings = SyntheticLog.Settings()
            settings.users = reader.int(s["users"], in: 1...10_000_000) ?? settings.users
            settings.items = reader.int(s["items"], in: 3...10_000_000) ?? settings.items
            settings.categories = reader.int(s["categories"], in: 3...100_000) ?? settings.categories
            settings.medianEvents = reader.int(s["median_events"], in: 1...50_000) ?? settings.medianEvents
            settings.minEvents = reader.int(s["min_events"], in: 1...50_000) ?? settings.minEvents
            settings.maxEvents = reader.int(s["max_events"], in: 1...50_000) ?? settings.maxEvents
            settings.seed = UInt64(reader.int(s["seed"], in: 0...Int.max) ?? Int(settings.seed))
            if settings.minEvents > settings.maxEvents { reader.problem(synthetic, "min_events is above max_events") }
            if settings.items < settings.categories { reader.problem(synthetic, "fewer items than categories") }
            return .synthetic(settings)
        }
        guard fields["path"] != nil, fields["format"] != nil else {
            reader.problem(value, "a source needs path and format (or synthetic)"); return nil
        }
        let path = reader.path(fields["path"], mustExist: true)
        let format = reader.choice(fields["format"], InteractionFormat.self)
        let columns = fields["columns"].map { reader.mapping($0, allowed: columnKeys) } ?? [:]
        var options = IngestOptions(format: format ?? .csv)
        options.mapping = ColumnMapping(user: reader.string(columns["user"]), item: reader.string(columns["item"]),
                                        time: reader.string(columns["time"]), event: reader.string(columns["event"]),
                                        value: reader.string(columns["value"]), category: reader.string(columns["category"]))
        options.itemsFile = reader.path(fields["items"], mustExist: true)
        options.itemsFormat = fields["items_format"].flatMap { reader.choice($0, InteractionFormat.self) }
        options.maxRejectRate = reader.double(fields["max_reject_rate"], in: 0...1) ?? options.maxRejectRate
        guard let path, format != nil else { return nil }
        return .file(path: path, options: options)
    }

    /// `model:` and `settings:` (any `pleat train --set` key, nested or dotted, but `seen`, which is the
    /// file's), resolved and checked as `pleat train` would.
    private static func model(_ value: DefinitionReader.Value, seen: SeenItems, _ reader: DefinitionReader) -> ModelSpec? {
        let fields = reader.mapping(value, allowed: ["model", "settings"], required: ["model"])
        guard let kind = reader.choice(fields["model"], ModelKind.self) else { return nil }
        var assignments: [(String, String, DefinitionReader.Value)] = []
        func flatten(_ prefix: String, _ v: DefinitionReader.Value) {
            if v.node.mapping != nil {
                for (k, child) in reader.entries(v) { flatten(prefix.isEmpty ? k : "\(prefix).\(k)", child) }
            } else if let text = reader.assignmentValue(v) {
                assignments.append(("\(prefix)=\(text)", prefix, v))
            }
        }
        if let settings = fields["settings"] { flatten("", settings) }
        var valid = true
        for (_, key, v) in assignments where key == "seen" {
            valid = false
            reader.problem(v, "set seen at the top of the pipeline: one rule for training, scoring and evaluation")
        }
        for (assignment, key, v) in assignments {
            do { _ = try TrainingConfig.resolve(model: kind, file: nil, overrides: [assignment]) } catch {
                valid = false
                reader.problem(v, "\(error)".replacingOccurrences(of: "--set: ", with: "").replacingOccurrences(of: "config key \(key): ", with: ""))
            }
        }
        guard valid else { return nil }
        do {
            var config = try TrainingConfig.resolve(model: kind, file: nil, overrides: assignments.map(\.0))
            config.seen = seen  // the pipeline's one rule; its settings may not set it (checked above)
            try config.validate()
            return ModelSpec(config: config)
        } catch {
            reader.problem(fields["settings"] ?? value, "\(error)"); return nil
        }
    }

    private static func scoring(_ value: DefinitionReader.Value, models: [ModelSpec], _ reader: DefinitionReader) -> Scoring {
        let fields = reader.mapping(value, allowed: ["model", "top_k", "include_seen"])
        if let old = fields["include_seen"] {
            reader.problem(old, "replaced by the top-level key seen (exclude or include), which training and evaluation follow too")
        }
        var scoring = Scoring()
        if let model = reader.string(fields["model"]) {
            let kinds = models.map(\.config.model.rawValue)
            if ["best", "none"].contains(model) || kinds.contains(model) { scoring.model = model } else {
                reader.problem(fields["model"], "'\(model)' is not best, none or a model this pipeline trains (\(kinds.joined(separator: ", ")))")
            }
        }
        scoring.topK = reader.int(fields["top_k"], in: 1...10_000) ?? scoring.topK
        return scoring
    }

    private static func evaluation(_ value: DefinitionReader.Value, _ reader: DefinitionReader) -> Evaluation {
        let fields = reader.mapping(value, allowed: ["enabled", "baselines", "split", "sampled", "report"])
        var evaluation = Evaluation()
        evaluation.enabled = reader.bool(fields["enabled"]) ?? true
        if let list = fields["baselines"] { evaluation.baselines = reader.list(list).compactMap { reader.choice($0, Baseline.self) } }
        evaluation.examples = reader.choice(fields["split"], OfflineEvaluation.Examples.self) ?? .test
        if let list = fields["sampled"] { evaluation.sampled = reader.list(list).compactMap { reader.choice($0, NegativeSampler.Distribution.self) } }
        evaluation.report = reader.path(fields["report"], mustExist: false)
        return evaluation
    }
}
