import Foundation
import PleatCore
import PleatModel
import PleatStorage
import PleatHistories

/// A config file or `--set` that names an unknown key or gives a value of the wrong type.
public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
}

extension TrainingConfig {
    /// The defaults for `model`, overlaid by `file` (JSON, or `key = value` lines) and then by each
    /// `key=value` in `overrides`. Fails before any work with the key and the reason.
    /// `base` replaces the defaults: a warm start's parent's stored config (`pleat train --warm-start`).
    public static func resolve(base: TrainingConfig = TrainingConfig(), model: ModelKind?, file: URL?, overrides: [String]) throws -> TrainingConfig {
        var tree = try base.tree()
        if let file {
            let text: String
            do { text = try String(contentsOf: file, encoding: .utf8) } catch {
                throw ConfigError(description: "\(file.path): cannot read (\(error.localizedDescription))")
            }
            if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
                try overlay(json: text, on: &tree, source: file.path)
            } else {
                for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                    guard !content.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
                    try set(String(content), in: &tree, source: "\(file.path):\(n + 1)")
                }
            }
        }
        if let model { tree["model"] = .string(model.rawValue) }
        for assignment in overrides { try set(assignment, in: &tree, source: "--set") }
        let config = try decode(tree)
        // A setting of another model's section changes nothing this run does: say so rather than ignore it.
        for assignment in overrides {
            let key = assignment.split(separator: "=", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if let section = key.split(separator: ".").first.flatMap({ ModelKind(rawValue: String($0)) }), section != config.model {
                throw ConfigError(description: "--set \(key): a \(section.rawValue) setting, but this run trains model = \(config.model.rawValue) "
                                  + "(use \(config.model.rawValue).\(key.split(separator: ".").dropFirst().joined(separator: ".")), or --model \(section.rawValue))")
            }
        }
        return config
    }

    /// A config stored by a run (`ModelRecord.config`), possibly by an earlier Pleat: keys it lacks take
    /// today's defaults, which keep the behaviour from before the key existed.
    public static func stored(_ json: String, source: String) throws -> TrainingConfig {
        var tree = try TrainingConfig().tree()
        try overlay(json: json, on: &tree, source: source)
        return try decode(tree)
    }

    /// Sets every key of the JSON object `json` in `tree`, sections merged key by key.
    private static func overlay(json: String, on tree: inout [String: ConfigTree], source: String) throws {
        guard let object = ConfigTree.parse(json)?.entries else {
            throw ConfigError(description: "\(source): not a JSON object")
        }
        try merge(object, into: &tree, path: "", source: source)
    }

    private static func decode(_ tree: [String: ConfigTree]) throws -> TrainingConfig {
        do {
            return try JSONDecoder.snakeCase.decode(TrainingConfig.self, from: JSONEncoder().encode(tree))
        } catch let DecodingError.dataCorrupted(context), let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let key = context.codingPath.map { $0.stringValue.snakeCased }.joined(separator: ".")
            throw ConfigError(description: "config key \(key): invalid value (\(context.debugDescription))")
        }
    }

    /// The config's keys (snake_case) and values, the form overlays apply to.
    private func tree() throws -> [String: ConfigTree] {
        try JSONDecoder().decode([String: ConfigTree].self, from: jsonData())
    }

    /// The config as JSON with snake_case keys: what the registry stores and files contain.
    public func jsonData(pretty: Bool = false) throws -> Data {
        try JSONEncoder.snakeCase(pretty: pretty).encode(self)
    }

    /// Applies `key=value` (or `key = value`). Values parse as JSON (numbers, booleans, quoted strings)
    /// and otherwise stand for themselves as strings.
    private static func set(_ assignment: String, in tree: inout [String: ConfigTree], source: String) throws {
        guard let eq = assignment.firstIndex(of: "=") else {
            throw ConfigError(description: "\(source): expected key=value, got '\(assignment)'")
        }
        let key = assignment[..<eq].trimmingCharacters(in: .whitespaces)
        let raw = assignment[assignment.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        let value = ConfigTree.parse(raw) ?? .string(raw)
        try setPath(key.split(separator: ".").map(String.init), value, in: &tree, fullKey: key, source: source)
    }

    private static func setPath(_ path: [String], _ value: ConfigTree, in tree: inout [String: ConfigTree], fullKey: String, source: String) throws {
        let head = path[0]
        guard tree.keys.contains(head) || (path.count == 1 && optionalKeys.contains(head)) else {
            let known = tree.keys.sorted().joined(separator: ", ")
            throw ConfigError(description: "\(source): unknown config key '\(fullKey)' (known here: \(known))")
        }
        if path.count == 1 {
            if tree[head]?.entries != nil { throw ConfigError(description: "\(source): '\(fullKey)' is a section, not a value") }
            tree[head] = value
            return
        }
        guard var child = tree[head]?.entries else {
            throw ConfigError(description: "\(source): '\(head)' in '\(fullKey)' is a value, not a section")
        }
        try setPath(Array(path.dropFirst()), value, in: &child, fullKey: fullKey, source: source)
        tree[head] = .section(child)
    }

    private static func merge(_ object: [String: ConfigTree], into tree: inout [String: ConfigTree], path: String, source: String) throws {
        for (key, value) in object {
            let full = path.isEmpty ? key : "\(path).\(key)"
            if let section = value.entries, var child = tree[key]?.entries {
                try merge(section, into: &child, path: full, source: source)
                tree[key] = .section(child)
            } else {
                try setPath([key], value, in: &tree, fullKey: full, source: source)
            }
        }
    }

    /// Keys whose default is nil, so the encoded defaults do not list them.
    private static let optionalKeys: Set<String> = ["cutoff", "target_events", "input_events", "query_event"]
}

extension String {
    var snakeCased: String {
        var out = ""
        for c in self {
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
        return out
    }
}

extension TrainingConfig {
    /// Checks what decoding cannot: ranges and the time split's cutoff.
    public func validate() throws {
        func require(_ ok: Bool, _ key: String, _ reason: String) throws {
            if !ok { throw ConfigError(description: "config key \(key): \(reason)") }
        }
        try require(epochs >= 1, "epochs", "must be at least 1")
        try require(patience >= 1, "patience", "must be at least 1")
        try require(timeLimitSeconds >= 0, "time_limit_seconds", "must be 0 (no limit) or positive")
        try require(batchSize >= 1, "batch_size", "must be at least 1")
        try require(lengthGroupBatches >= 1, "length_group_batches", "must be at least 1 (1: no grouping by length)")
        try require(maxLength >= 2, "max_length", "must be at least 2")
        try require(minCount >= 1, "min_count", "must be at least 1")
        try require(learningRate > 0, "learning_rate", "must be positive")
        try require(warmupSteps >= 0, "warmup_steps", "must be 0 or more")
        try require(split == .leaveOneOut || cutoff != nil, "cutoff", "required with split = time")
        try require(warmStart.epochs >= 1, "warm_start.epochs", "must be at least 1")
        try require((0...1).contains(warmStart.replayShare), "warm_start.replay_share", "must be from 0 to 1")
        try require(warmStart.learningRate >= 0, "warm_start.learning_rate", "must be 0 (learning_rate) or positive")
        try require(warmStart.warmupSteps >= 0, "warm_start.warmup_steps", "must be 0 or more")
        try require(warmStart.shrink > 0 && warmStart.shrink <= 1, "warm_start.shrink", "must be above 0 and at most 1 (1: the parent's weights as they are)")
        try require(!warmStart.coldItems || warmStart.isOn, "warm_start.cold_items", "needs warm_start.parent (cold items join a warm start's vocabulary)")
        // Measured: HSTU warm-started with new items at their category's mean and barely trained (learning
        // rate 1e-4) fell to validation NDCG@10 0.0098 from 0.0833 with random new rows (MovieLens-100K).
        try require(!warmStart.coldItems || model != .hstu, "warm_start.cold_items",
                    "is for sasrec and bert4rec: HSTU ranks by cosine, under which an untrained item at its category's mean row heads the list of every user of the category")
        if targetEvents != nil {
            try require(model != .bert4rec, "target_events", "is for sasrec and hstu for now, not model = bert4rec (its Cloze masks do not follow targets yet)")
        }
        for (key, encoder) in [("sasrec", sasrec.encoder), ("bert4rec", bert4rec.encoder)] {
            try require(encoder.dimension % encoder.heads == 0, "\(key).encoder.heads", "must divide dimension \(encoder.dimension)")
            try require((0..<1).contains(encoder.dropout), "\(key).encoder.dropout", "must be in [0, 1)")
        }
        try require(!sasrec.encoder.attendPadding || sasrec.encoder.block == .sasrec, "sasrec.encoder.attend_padding",
                    "needs sasrec.encoder.block = sasrec (the block whose padding rows have the K and V biases for keys and values)")
        try require(!bert4rec.encoder.attendPadding, "bert4rec.encoder.attend_padding", "is for SASRec's causal windows only")
        try require(hstu.encoder.dimension % hstu.encoder.heads == 0, "hstu.encoder.heads", "must divide dimension")
        try require(hstu.negatives >= 1 && sasrec.negatives >= 1, "negatives", "must be at least 1")
        try require(sasrec.temperature > 0, "sasrec.temperature", "must be positive")
        for (key, rate) in [("sasrec", sasrec.itemDropout), ("bert4rec", bert4rec.itemDropout)] {
            try require((0..<1).contains(rate), "\(key).item_dropout", "must be in [0, 1)")
        }
        try require((0..<1).contains(bert4rec.maskProbability), "bert4rec.mask_probability", "must be in [0, 1)")
        try require(!sasrec.repeat || ![.bce, .gbce].contains(sasrec.loss) && (sasrec.loss == .ce || sasrec.sampling == .uniformPerPosition),
                    "sasrec.repeat", "needs sasrec.loss = ce, or sampled_softmax (or auto) with sasrec.sampling = uniform_per_position")
        try require((0...BehaviourSettings.maxTypes).contains(behaviour.types), "behaviour.types",
                    "must be 0 (every type in the data) up to \(BehaviourSettings.maxTypes)")
        try require((0...BehaviourSettings.maxValueBuckets).contains(behaviour.valueBuckets), "behaviour.value_buckets",
                    "must be 0 (values not read) up to \(BehaviourSettings.maxValueBuckets)")
        try require(behaviour.inputEvents == nil || model != .bert4rec, "behaviour.input_events", "is for sasrec and hstu for now")
        try require(behaviour.input != .interleaved || model != .bert4rec, "behaviour.input",
                    "interleaved is for the causal models (sasrec, hstu): a behaviour token asks for the item after it")
        try require(behaviour.input != .interleaved || fold.key == .none, "behaviour.input", "interleaved does not fold yet (set fold.key = none)")
        try require(!behaviour.predictBehaviour || behaviour.input == .interleaved, "behaviour.predict_behaviour",
                    "needs behaviour.input = interleaved (the behaviour is predicted at item tokens and asked for at behaviour tokens)")
        if fold.key != .none {
            try require(fold.groups >= 1 && fold.groupLength >= 1 && fold.foldBlocks >= 1, "fold", "groups, group_length and fold_blocks must be at least 1")
            try require((0...1).contains(fold.windowEndSpread), "fold.window_end_spread", "must be in [0, 1]")
            try require(fold.windowsPerUser >= 1, "fold.windows_per_user", "must be at least 1")
            try require(fold.key != .cluster || fold.clusters >= 1, "fold.clusters", "must be at least 1")
        }
        _ = try cutoffSeconds()
    }

    /// The time split's cutoff in Unix seconds (nil for leave-one-out).
    public func cutoffSeconds() throws -> Int64? {
        do { return try splitRule.cutoffSeconds() } catch { throw ConfigError(description: "\(error)") }
    }

    /// The `event_types` ids of `target_events` in `db` (nil: every event is a target).
    func targetBehaviours(_ db: PostgresConnection) throws -> Set<Int16>? {
        guard targetEvents != nil else { return nil }
        do { return try splitRule.targetBehaviours(eventTypes: EventTypeTable(db).ids()) } catch let error as SplitRuleError {
            throw ConfigError(description: error.description)
        }
    }
}
