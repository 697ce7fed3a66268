import Foundation
import PleatCore
import PleatStorage
import PleatHistories
import PleatMetrics

/// `pleat score` as a library call: every user's (or only the changed users') top-K from their full
/// history in PostgreSQL, written to the recommendation cache under the model's id in large
/// transactions, then made visible in one switch.
public struct BatchScorer {
    public enum Users: String, Sendable, CaseIterable {
        /// Every user with at least one event the model knows.
        case all
        /// Users without a list under this model, or with events newer than their list.
        case changed
    }

    public var topK = 100
    /// The seen-items rule of the lists; nil: the model's own (`ModelRecord.seen`), the rule it was
    /// validated and tested under.
    public var seen: SeenItems?
    public var users = Users.all
    /// The behaviours to keep a list for, each user one list per event type name (`ScoringModel.topK`'s
    /// `event`); empty (the default): one list, the model's own question.
    public var events: [String] = []
    /// Only the users of this shard (`Shard`): one cache per shard, written by one process each.
    public var shard = Shard.all
    /// Whether the lists become the ones served when written (`RecommendationCache.activate`); false:
    /// written under the model's id and left for an activation later (a model not promoted).
    public var activate = true
    /// Users per cache transaction.
    public var transactionSize = 5_000
    public var showProgress = true

    public init() {}

    public struct Report: Sendable, Codable {
        public var modelId: String
        public var users: Int
        /// Users left out because none of their events is in the model's vocabulary.
        public var skippedUsers: Int
        /// Users whose lists were already current (`--users changed`).
        public var unchangedUsers: Int
        public var topK: Int
        /// The seen-items rule the lists follow.
        public var seen: SeenItems
        /// The behaviours each user has a list for ("" for the model's own question).
        public var events: [String]
        /// Whether the lists were made the ones served.
        public var activated: Bool
        /// Wall time of the whole run (histories read, scoring, cache writes), and users per second of it.
        public var seconds: Double
        public var usersPerS: Double
        /// Time inside the model (forward pass and top-K), comparable with a bare inference benchmark.
        public var modelSeconds: Double
        public var cache: String
        /// `I/N`, or `0/1` for every user.
        public var shard: String
    }

    /// Histories are streamed from PostgreSQL (`HistoryLoader.stream`) and scored as they arrive, and the
    /// lists are written by `CacheWriteQueue`: reading, scoring and writing overlap.
    public func run(model: ScoringModel, db: PostgresConnection, cache: RecommendationCache) throws -> Report {
        let start = Date()
        let directory = try UserDirectory(db: db)
        for event in events { try model.checkEvent(event) }
        let questions: [String?] = events.isEmpty ? [nil] : events
        // A user is current when every list asked for is.
        let marks = users == .changed ? try questions.map { try cache.historyMarks(modelId: model.id, event: $0 ?? "") } : []
        let shardUsers = try UserTable(db).count(in: shard)
        let seen = try self.seen ?? model.record.seen
        if users == .changed, let existing = try cache.set(modelId: model.id), existing.seen != seen {
            // One set follows one rule: lists of both rules under one model would serve a user by chance.
            throw ScoringError("the cache holds \(model.id)'s lists under seen = \(existing.seen.rawValue); they cannot be continued under "
                               + "seen = \(seen.rawValue): score under \(existing.seen.rawValue), or rescore --users all")
        }
        try cache.beginSet(modelId: model.id, topK: topK, seen: seen)

        let progress = ProgressLine("scoring \(model.id)", unit: "users", total: shardUsers, enabled: showProgress)
        let writes = CacheWriteQueue(cache: cache, modelId: model.id)
        defer { writes.close() }
        var batch: [(user: String, history: ModelHistory, until: Int64)] = []
        batch.reserveCapacity(model.batchSize)
        var lists: [RankedList] = []
        lists.reserveCapacity(transactionSize)
        var (examined, unchanged, skipped, modelSeconds) = (0, 0, 0, 0.0)
        func scoreBatch() throws {
            for event in questions {
                let modelStart = Date()
                let ranked = model.topK(batch.map(\.history), k: topK, seen: seen, event: event)
                modelSeconds += Date().timeIntervalSince(modelStart)
                let now = Date().timeIntervalSince1970
                for (user, top) in zip(batch, ranked) {
                    lists.append(model.rankedList(user: user.user, event: event, top, historyUntil: user.until, computedAt: now))
                }
            }
            batch.removeAll(keepingCapacity: true)
            if lists.count >= transactionSize {
                try writes.submit(lists)
                lists = []
                lists.reserveCapacity(transactionSize)
            }
        }
        try HistoryLoader.stream(from: db, shard: shard, chunkUsers: max(2_048, 8 * model.batchSize)) { histories in
            for slot in 0..<histories.userCount {
                examined += 1
                let range = histories.range(slot)
                let user = directory.externalIds[histories.userIds[slot]] ?? String(histories.userIds[slot])
                let until = histories.times[range.upperBound - 1]
                if !marks.isEmpty, marks.allSatisfy({ ($0[user] ?? .min) >= until }) { unchanged += 1; continue }
                let h = model.modelHistory(items: histories.items[range], times: histories.times[range], behaviours: histories.behaviours[range],
                                           values: histories.values[range])
                if h.isEmpty { skipped += 1; continue }
                batch.append((user, h, until))
                if batch.count == model.batchSize { try scoreBatch() }
            }
            progress.update(done: examined)
        }
        if !batch.isEmpty { try scoreBatch() }
        if !lists.isEmpty { try writes.submit(lists) }
        let written = try writes.finish() / questions.count
        progress.finish()
        if activate { try cache.activate(modelId: model.id) }
        let seconds = Date().timeIntervalSince(start)
        return Report(modelId: model.id, users: written, skippedUsers: skipped, unchangedUsers: unchanged,
                      topK: topK, seen: seen, events: questions.map { $0 ?? "" }, activated: activate, seconds: seconds, usersPerS: Double(written) / max(seconds, 1e-9), modelSeconds: modelSeconds,
                      cache: cache.path, shard: shard.description)
    }
}
