import Foundation
import PleatCore
import PleatStorage
import PleatTraining

/// Answers "what next for this user" from the cache, checking the answer is still current: the entry
/// must belong to the active model and cover the user's newest event in PostgreSQL. Otherwise it scores
/// the user live with the active model (writing the list through to the cache); a user the model cannot
/// score gets its most popular items, flagged as a fallback. Safe to call from many threads: each call
/// borrows its own connections, and live scoring takes turns on one batch-of-1 model.
public final class Recommender: @unchecked Sendable {
    /// One caller's connections: PostgreSQL for freshness and history, SQLite for the cache.
    final class Session {
        let db: PostgresConnection
        let cache: RecommendationCache
        init(databaseURL: String, cachePath: String) throws {
            db = try PostgresConnection(url: databaseURL)
            cache = try RecommendationCache(path: cachePath)
        }
    }

    /// Items scored live (and written through) at least, so a live list serves later requests as a full one.
    public var liveTopK = 100
    private let sessions: Pool<Session>
    private let modelLock = NSLock()
    private var live: ScoringModel?
    private var popular: (modelId: String, items: [Int32], scores: [Float])?

    public init(databaseURL: String, cachePath: String) throws {
        sessions = Pool { try Session(databaseURL: databaseURL, cachePath: cachePath) }
        try sessions.with { _ in }  // fail now, not on the first request, when a database is unreachable
    }

    public func recommend(user: String, k: Int) throws -> Recommendation {
        try sessions.with { session in
            let cached = try session.cache.lookup(user: user)
            let state = try session.db.query("""
                SELECT u.id, (SELECT floor(extract(epoch FROM max(i.occurred_at)))::bigint FROM interactions i WHERE i.user_id = u.id)
                FROM users u WHERE u.external_id = $1
                """, [user])
            guard state.rowCount == 1, let userId = state.int(0, 0), let newest = state.int(0, 1) else {
                return try fallback(user: user, k: k, session: session, reason: "unknown user \(user): no interactions recorded")
            }
            if let cached, cached.list.historyUntil >= Int64(newest), cached.list.items.count >= k {
                return Recommendation(user: user, list: cached.list, k: k, modelId: cached.modelId, source: .cache)
            }
            return try scoreLive(user: user, userId: userId, k: k, session: session)
        }
    }

    private func scoreLive(user: String, userId: Int, k: Int, session: Session) throws -> Recommendation {
        let active = try session.cache.activeSet()
        let rows = try session.db.query("""
            SELECT item_id, floor(extract(epoch FROM occurred_at))::bigint FROM interactions WHERE user_id = $1
            ORDER BY occurred_at, item_id, event_type
            """, [String(userId)])
        let items = (0..<rows.rowCount).map { Int32(rows.int($0, 0)!) }, times = (0..<rows.rowCount).map { Int64(rows.int($0, 1)!) }
        return try modelLock.withLock {
            let model = try liveModel(active?.modelId, db: session.db)
            let history = model.modelHistory(items: items[...], times: times[...])
            guard !history.items.isEmpty else {
                return try fallbackLocked(user: user, k: k, model: model, db: session.db, reason: "none of the events of user \(user) is an item model \(model.id) knows")
            }
            let top = model.topK([history], k: max(k, active?.topK ?? liveTopK), includeSeen: active?.includeSeen ?? false)[0]
            let list = RankedList(user: user, items: model.externalIds(top.items), scores: top.scores, historyUntil: times.last ?? 0,
                                  computedAt: Date().timeIntervalSince1970)
            if model.id == active?.modelId { try session.cache.write([list], modelId: model.id) }
            return Recommendation(user: user, list: list, k: k, modelId: model.id, source: .live)
        }
    }

    private func fallback(user: String, k: Int, session: Session, reason: String) throws -> Recommendation {
        let active = try session.cache.activeSet()
        return try modelLock.withLock {
            try fallbackLocked(user: user, k: k, model: try liveModel(active?.modelId, db: session.db), db: session.db, reason: reason)
        }
    }

    /// The model's most popular items (never an item outside its vocabulary).
    private func fallbackLocked(user: String, k: Int, model: ScoringModel, db: PostgresConnection, reason: String) throws -> Recommendation {
        if popular?.modelId != model.id || popular!.items.count < k {
            let top = try model.popularItems(db: db, k: max(k, liveTopK))
            popular = (model.id, top.items, top.scores)
        }
        let list = RankedList(user: user, items: model.externalIds(popular!.items), scores: popular!.scores, historyUntil: 0,
                              computedAt: Date().timeIntervalSince1970)
        return Recommendation(user: user, list: list, k: k, modelId: model.id, source: .fallback, message: reason + "; most popular items instead")
    }

    /// The active model (or, before anything was scored, the newest registered one), loaded once.
    private func liveModel(_ activeId: String?, db: PostgresConnection) throws -> ScoringModel {
        if let live, activeId == nil || live.id == activeId { return live }
        let registry = ModelRegistry(db)
        guard let record = try activeId.map({ try registry.find($0) }) ?? registry.list(limit: 1).first else {
            throw ScoringError(activeId.map { "the active model \($0) is not in the model registry" }
                               ?? "no trained model: run `pleat train` (and `pleat score`) first")
        }
        let model = try ScoringModel.load(record, db: db, batchSize: 1)
        live = model
        return model
    }
}
