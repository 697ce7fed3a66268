import ArgumentParser
import Foundation
import PleatCore
import PleatTensor
import PleatScoring
import PleatStorage
import PleatTraining
import PleatModel
import PleatMetrics
import PleatEvaluation

extension SeenItems: ExpressibleByArgument {}

extension BatchScorer.Users: ExpressibleByArgument {}

extension Shard: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

/// Options of the commands that read or write the recommendation cache.
struct CacheOptions: ParsableArguments {
    @Option(help: "The SQLite recommendation cache (default: <home>/cache.sqlite).") var cache: String?
    func path(_ global: GlobalOptions) -> String { cache ?? RecommendationCache.defaultPath(home: global.pleatHome) }
}

/// `pleat score`: batch top-K for every (or every changed) user into the SQLite cache.
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score users with a registered model, and make its lists the ones served if it is promoted.",
        discussion: """
            Lists are written under the model's id and switched in atomically: readers see the old model's complete set or the new one's.             A model other than the serving one is switched in only when promoted: on each user's held-out last event it must rank no             worse than the serving model (beyond --max-drop) and significantly better than the best baseline; --force switches it in             anyway, and the decision is recorded either way.
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var cacheOptions: CacheOptions
    @Option(help: "A registered model id, or 'latest'.") var model = "latest"
    @Option(help: "all, or changed (users with events newer than their list).") var users = BatchScorer.Users.all
    @Option(name: .customLong("top-k"), help: "Items kept per user.") var topK = 100
    @Option(help: "Seen items: exclude (lists never repeat an item of the user's history) or include (default: the rule the model was trained and tested under).")
    var seen: SeenItems?
    @Option(help: "Users per scoring batch.") var batch = 256
    @Option(help: "Only the users of shard I of N (I/N, 0-based; docs/sharding.md): one cache per shard.") var shard = Shard.all
    @Option(help: ArgumentHelp("Keep a list per behaviour asked for, e.g. buy,view (event type names); requests name one with --event or ?event=.",
                               discussion: "Default: one list, the model's own question (its target behaviour, or the next event of any kind)."))
    var events: String?
    @Option(name: .customLong("max-drop"), help: "Largest drop of NDCG@10 against the serving model that still promotes.") var maxDrop = 0.0
    @Option(help: "Baselines the model must beat to be promoted, comma-separated: \(Baseline.allCases.map(\.rawValue).joined(separator: ", ")).")
    var baselines = Baseline.allCases.map(\.rawValue).joined(separator: ",")
    @Flag(help: "Serve this model's lists even when the promotion rule keeps it out (recorded).") var force = false
    @Flag(help: "End with one JSON line (model_id, users, seconds, users_per_s, activated, promotion, ...).") var json = false

    /// `--events` as names, in order, without repeats.
    var eventNames: [String] {
        var seen = Set<String>()
        return (events ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    func validate() throws {
        guard events == nil || !eventNames.isEmpty else { throw ValidationError("--events needs at least one event type name, e.g. --events buy,view") }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard (0...1).contains(maxDrop) else { throw ValidationError("--max-drop must be from 0 to 1") }
        guard !(try Evaluate.parseBaselines(baselines)).isEmpty else { throw ValidationError("--baselines needs at least one baseline") }
    }

    func run() throws {
        try BLASLibrary.load()  // a clear error now rather than a stop at the first product
        let db = try global.database.connect()
        let registry = ModelRegistry(db)
        guard let record = try model == "latest" ? registry.list(limit: 1).first : registry.find(model) else {
            throw ValidationError(model == "latest" ? "no trained model: run `pleat train` first" : "no model \(model) in the registry (see `pleat models list`)")
        }
        let scoring = try ScoringModel.load(record, db: db, batchSize: batch)
        let cache = try RecommendationCache(path: cacheOptions.path(global))
        let promotion = try Promotion.review(record, servedBy: cache, rule: PromotionRule(maxDrop: maxDrop, baselines: try Evaluate.parseBaselines(baselines)),
                                             force: force, db: db, batchSize: batch)
        var scorer = BatchScorer()
        (scorer.topK, scorer.seen, scorer.users, scorer.shard, scorer.events) = (topK, seen, users, shard, eventNames)
        scorer.activate = promotion?.activates ?? true
        scorer.showProgress = true  // on stderr: --json output (stdout) stays one line, as with ingest and train
        let report = try scorer.run(model: scoring, db: db, cache: cache)
        let asked = eventNames.isEmpty ? "" : ", a list per event: \(eventNames.joined(separator: ", "))"
        note(String(format: "scored %@ users%@ with %@ (seen = %@%@) in %.2f s (%@ users/s); %@ without known items, %@ unchanged; cache %@",
                    Format.count(report.users), shard.count > 1 ? " of shard \(shard)" : "", report.modelId, report.seen.rawValue, asked, report.seconds,
                    Format.count(Int(report.usersPerS)),
                    Format.count(report.skippedUsers), Format.count(report.unchangedUsers), report.cache))
        if let promotion {
            note(promotion.promoted ? "promoted: \(promotion.reason); its lists are served"
                 : promotion.forced ? "not promoted (\(promotion.reason)); served anyway with --force (recorded)"
                 : "not promoted: \(promotion.reason). Its lists are written but not served; "
                   + "\(promotion.serving.map { "\($0) stays the serving model" } ?? "no model serves yet"); --force serves them anyway (recorded)")
        }
        if json { try printJSONLine(ScoreOutcome(report: report, promotion: promotion)) }
    }
}

/// `pleat score --json`: the scoring report's fields and the promotion decision (absent when the serving
/// model was rescored).
private struct ScoreOutcome: Encodable {
    let report: BatchScorer.Report
    let promotion: PromotionDecision?
    enum Keys: String, CodingKey { case promotion }

    func encode(to encoder: any Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeIfPresent(promotion, forKey: .promotion)
    }
}

/// `pleat recommend`: one user's next items, from the cache or scored live.
struct Recommend: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A user's top next items: cached, or scored live when the entry is missing or stale.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var cacheOptions: CacheOptions
    @Option(help: "The user's external id.") var user: String
    @Option(name: .short, help: "How many items.") var k = 10
    @Option(help: "The behaviour asked for, an event type name (e.g. buy: what will the user buy next?). Default: the model's own question.")
    var event: String?
    @Option(help: ArgumentHelp("Items the user just interacted with that no ingest has stored yet, oldest first (comma-separated): scored live on top of the stored history, not cached.",
                               valueName: "ITEM,ITEM"), transform: { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) })
    var recent: [String]?
    @Option(help: "The event type of the --recent items (default: the database's only type, or interaction).") var recentEvent: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard (1...1_000).contains(k) else { throw ValidationError("-k must be from 1 to 1000") }
        guard recentEvent == nil || recent != nil else { throw ValidationError("--recent-event describes the --recent items: give --recent too") }
        guard event.map({ !$0.isEmpty }) ?? true else { throw ValidationError("--event needs an event type name") }
    }

    func run() throws {
        try BLASLibrary.load()  // a clear error now rather than a stop at the first product
        let recommender = try Recommender(databaseURL: global.database.url, cachePath: cacheOptions.path(global), connectNow: false)
        let answer = try recent.map { items in
            // One second apart, ending now, so that they keep the order given.
            let now = Int64(Date().timeIntervalSince1970)
            let events = items.enumerated().map { RecentEvent(item: $1, time: now - Int64(items.count - 1 - $0), event: recentEvent) }
            return try recommender.recommend(user: user, k: k, event: event, recent: events, now: now)
        } ?? recommender.recommend(user: user, k: k, event: event)
        if answer.freshness == .unchecked { note("PostgreSQL is unreachable: this is the cached list, not checked against newer events") }
        if json { return try printJSONLine(answer) }
        if let message = answer.message { note(message) }
        var table = TextTable(["rank", "item", "score"])
        for (i, item) in answer.items.enumerated() { table.add([String(i + 1), item.item, String(format: "%.4f", item.score)]) }
        print("user \(answer.user)\(answer.event.map { ", event \($0)" } ?? "")\(answer.recentEvents.map { ", \($0) recent events" } ?? ""), model \(answer.modelId), source \(answer.source.rawValue), computed \(answer.computedAt)")
        print(table.render())
    }
}
