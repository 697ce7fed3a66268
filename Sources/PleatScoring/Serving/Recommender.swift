import Foundation
import PleatCore
import PleatStorage
import PleatModel
import PleatMetrics

/// Answers "what next for this user" from the cache, checking the answer is still current: the entry
/// must belong to the active model and cover the user's newest event in PostgreSQL. Otherwise it scores
/// the user live with the active model (writing the list through to the cache); a user the model cannot
/// score gets its most popular items, flagged as a fallback.
///
/// The two halves are separate calls so a server can run them on separate threads: `fromCache` is a
/// primary-key read in SQLite and one in PostgreSQL, `live` runs the model. While PostgreSQL is
/// unreachable, a cached list is still given (`freshness: unchecked`); anything else throws
/// `RecommenderUnavailable`. Safe to call from many threads: each call borrows its own connections,
/// and live scoring takes turns on one batch-of-1 model.
public final class Recommender: @unchecked Sendable {
    /// One caller's connections: PostgreSQL for freshness and history, SQLite for the cache.
    final class Session {
        let db: PostgresConnection
        let cache: RecommendationCache
        init(databaseURL: String, cachePath: String, timeouts: PostgresConnection.Timeouts) throws {
            db = try PostgresConnection(url: databaseURL, timeouts: timeouts)
            cache = try RecommendationCache(path: cachePath)
        }
    }

    /// What the cache half decided.
    public enum CacheAnswer: Sendable {
        /// The answer (from the cache; or the cache unchecked, while PostgreSQL is unreachable).
        case answer(Recommendation)
        /// Scoring is needed (a miss, a stale entry, a changed model, an unknown user).
        case live(LiveRequest)
    }

    /// Work for the live half.
    public struct LiveRequest: Sendable {
        public let user: String
        public let k: Int
        /// The behaviour asked for (nil: the model's own question).
        public let event: String?
        let userId: Int?
    }

    /// Items scored live (and written through) at least, so a live list serves later requests as a full one.
    public var liveTopK = 100
    /// After PostgreSQL failed, requests do not try it again for this long (answers come from the cache,
    /// unchecked), so a server that is down costs no connection attempt per request.
    public var retryAfterFailure: TimeInterval = 0.25
    private let databaseURL: String, cachePath: String
    private let timeouts: PostgresConnection.Timeouts
    let sessions: Pool<Session>
    /// The cache alone, for answers while PostgreSQL is unreachable (SQLite stays reachable).
    private let caches: Pool<RecommendationCache>
    let modelLock = NSLock()
    private var live: ScoringModel?
    private var popular: (modelId: String, items: [Int32], scores: [Float])?
    private let healthLock = NSLock()
    private var databaseDownUntil = Date.distantPast
    private let watchLock = NSLock()
    private var watchStorage: FreshnessWatch?
    var watch: FreshnessWatch? { watchLock.withLock { watchStorage } }

    /// `timeouts` bound each connection attempt and statement, so a slow or absent database costs a
    /// request at most that long. `connectNow`: fail here when the database is unreachable (a server
    /// should not start against nothing); false lets the first answer come from the cache, unchecked,
    /// as the server's do while the database is down (`pleat recommend`).
    public init(databaseURL: String, cachePath: String,
                timeouts: PostgresConnection.Timeouts = .init(connectSeconds: 2, statementMilliseconds: 5_000), connectNow: Bool = true) throws {
        (self.databaseURL, self.cachePath, self.timeouts) = (databaseURL, cachePath, timeouts)
        sessions = Pool(make: { try Session(databaseURL: databaseURL, cachePath: cachePath, timeouts: timeouts) },
                        isUsable: { $0.db.isConnected })
        caches = Pool(make: { try RecommendationCache(path: cachePath) })
        if connectNow { try sessions.with { _ in } }
    }

    /// Whether the last contact with PostgreSQL failed recently (for /healthz).
    public var databaseReachable: Bool { healthLock.withLock { Date() >= databaseDownUntil } }

    /// The set the cache serves and when it was scored (nil before any); from SQLite alone.
    public func activation() throws -> RecommendationCache.Activation? { try caches.with { try $0.activation() } }

    /// Both halves, one after the other (`pleat recommend`).
    public func recommend(user: String, k: Int, event: String? = nil) throws -> Recommendation {
        switch try fromCache(user: user, k: k, event: event) {
        case .answer(let answer): return answer
        case .live(let request): return try live(request)
        }
    }

    /// The cached list when it is current (or when PostgreSQL cannot say whether it is). `event`: the
    /// behaviour asked for, whose list `pleat score --events` keeps (nil: the model's own question).
    /// With `watchIngests` on, a user whose newest event is known since the last ingest commit is
    /// answered from SQLite alone.
    public func fromCache(user: String, k: Int, event: String? = nil) throws -> CacheAnswer {
        if !databaseReachable { return try unchecked(user: user, k: k, event: event, reason: "PostgreSQL was unreachable moments ago") }
        if let known = watch?.newestEvent(of: user) {
            let cached = try caches.with { try $0.lookup(user: user, event: event ?? "") }
            return Self.decide(user: user, k: k, event: event, cached: cached, newest: known)
        }
        do {
            return try sessions.with { session in
                let cached = try session.cache.lookup(user: user, event: event ?? "")
                let generation = watch?.currentGeneration
                let newest = try UserTable(session.db).newestEvent(of: user)
                healthLock.withLock { freshnessQueryCount += 1 }
                if let watch, let generation { watch.remember(newest, of: user, generation: generation) }
                return Self.decide(user: user, k: k, event: event, cached: cached, newest: newest)
            }
        } catch let error as PostgresError {
            noteDatabaseFailure()
            return try unchecked(user: user, k: k, event: event, reason: "PostgreSQL: \(ConnectionString.redacted(error.description))")
        }
    }

    /// The cached list if it covers the user's newest event and is long enough; otherwise live scoring.
    private static func decide(user: String, k: Int, event: String?, cached: (modelId: String, list: RankedList)?,
                               newest: FreshnessWatch.Newest) -> CacheAnswer {
        guard let (userId, second) = newest, let second else {
            return .live(LiveRequest(user: user, k: k, event: event, userId: nil))
        }
        if let cached, cached.list.historyUntil >= second, cached.list.items.count >= k {
            return .answer(Recommendation(user: user, list: cached.list, k: k, modelId: cached.modelId, source: .cache))
        }
        return .live(LiveRequest(user: user, k: k, event: event, userId: userId))
    }

    /// Listens for ingest commits (`FreshnessWatch`), so that cache hits stop asking PostgreSQL for the
    /// user's newest event: the server's mode. Idempotent; `stopWatching` ends it.
    public func watchIngests() {
        watchLock.withLock {
            guard watchStorage == nil else { return }
            let (url, timeouts) = (databaseURL, timeouts)
            let started = FreshnessWatch(connect: { try IngestAnnouncements(url: url, timeouts: timeouts) },
                                         onLost: { [weak self] in self?.noteDatabaseFailure() })
            started.start()
            watchStorage = started
        }
    }

    public func stopWatching() { watchLock.withLock { watchStorage?.stop(); watchStorage = nil } }

    /// Waits until the watch has seen batch `id` committed (or `seconds` pass): tests that ingest and
    /// then expect the change to show. False without a watch or on timeout.
    public func waitUntilWatched(batch id: Int, seconds: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let watch, watch.isListening, (watch.lastBatch ?? 0) >= id { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return false
    }

    /// How many times a cache lookup asked PostgreSQL for the user's newest event (`/metrics`; with the
    /// watch on, once per user after each ingest commit).
    public var freshnessQueries: Int { healthLock.withLock { freshnessQueryCount } }
    private var freshnessQueryCount = 0

    /// Whether ingest commits are being listened to now (the watch is on and connected).
    public var isWatchingIngests: Bool { watch?.isListening ?? false }

    /// Scores the user with the active model and writes the list through to the cache.
    public func live(_ request: LiveRequest) throws -> Recommendation {
        if !databaseReachable { throw RecommenderUnavailable(reason: "PostgreSQL was unreachable moments ago") }
        do {
            return try sessions.with { session in
                guard let userId = request.userId else {
                    return try fallback(user: request.user, k: request.k, session: session, reason: "unknown user \(request.user): no interactions recorded")
                }
                return try scoreLive(request, userId: userId, session: session)
            }
        } catch let error as PostgresError {
            noteDatabaseFailure()
            throw RecommenderUnavailable(reason: "PostgreSQL: \(ConnectionString.redacted(error.description))")
        }
    }

    /// While PostgreSQL cannot be asked: the active model's cached list, marked unchecked, or unavailable.
    private func unchecked(user: String, k: Int, event: String?, reason: String) throws -> CacheAnswer {
        let cached = try caches.with { try $0.lookup(user: user, event: event ?? "") }
        guard let cached, cached.list.items.count >= k else { throw RecommenderUnavailable(reason: reason) }
        return .answer(Recommendation(user: user, list: cached.list, k: k, modelId: cached.modelId, source: .cache, freshness: .unchecked))
    }

    func noteDatabaseFailure() {
        healthLock.withLock { databaseDownUntil = Date().addingTimeInterval(retryAfterFailure) }
        sessions.drain()  // their connections went with the server
    }

    private func scoreLive(_ request: LiveRequest, userId: Int, session: Session) throws -> Recommendation {
        let active = try session.cache.activeSet()
        let history = try UserTable(session.db).history(of: userId)
        return try modelLock.withLock {
            let model = try liveModel(active?.modelId, db: session.db)
            if let event = request.event { try model.checkEvent(event) }
            let (top, list) = try scoreLocked(user: request.user, k: request.k, event: request.event, model: model, active: active,
                                              history: history, db: session.db)
            guard let list else { return top }
            // Only under the model that is active when the write commits (the cache checks it in the
            // same transaction), so a list never lands under a model that was switched away meanwhile.
            try session.cache.writeThrough(list, modelId: model.id)
            return top
        }
    }

    /// A history (this database's ids, oldest first) scored with `model`, under `modelLock`: the answer,
    /// and the list to cache (nil for a fallback, which is never cached).
    func scoreLocked(user: String, k: Int, event: String?, model: ScoringModel, active: RecommendationCache.ListSet?,
                     history: UserTable.History, db: PostgresConnection) throws -> (Recommendation, RankedList?) {
        let modelHistory = model.modelHistory(items: history.items[...], times: history.seconds[...], behaviours: history.eventTypes[...],
                                              values: history.values[...])
        guard !modelHistory.items.isEmpty else {
            return (try fallbackLocked(user: user, k: k, model: model, db: db,
                                       reason: "none of the events of user \(user) is an item model \(model.id) knows"), nil)
        }
        let top = model.topK([modelHistory], k: max(k, active?.topK ?? liveTopK), seen: try active?.seen ?? model.record.seen, event: event)[0]
        let list = model.rankedList(user: user, event: event, top, historyUntil: history.seconds.last ?? 0)
        return (Recommendation(user: user, list: list, k: k, modelId: model.id, source: .live), list)
    }

    private func fallback(user: String, k: Int, session: Session, reason: String) throws -> Recommendation {
        let active = try session.cache.activeSet()
        return try modelLock.withLock {
            try fallbackLocked(user: user, k: k, model: try liveModel(active?.modelId, db: session.db), db: session.db, reason: reason)
        }
    }

    /// The model's most popular items (never an item outside its vocabulary).
    func fallbackLocked(user: String, k: Int, model: ScoringModel, db: PostgresConnection, reason: String) throws -> Recommendation {
        let top: (items: [Int32], scores: [Float])
        if let popular, popular.modelId == model.id, popular.items.count >= k {
            top = (popular.items, popular.scores)
        } else {
            top = model.popularItems(k: max(k, liveTopK))
            popular = (model.id, top.items, top.scores)
        }
        let list = model.rankedList(user: user, top, historyUntil: 0)
        return Recommendation(user: user, list: list, k: k, modelId: model.id, source: .fallback, message: reason + "; most popular items instead")
    }

    /// The active model, loaded once. Before any model's lists were activated nothing serves: a model
    /// serves once promoted (`pleat score`), never because it is the newest.
    func liveModel(_ activeId: String?, db: PostgresConnection) throws -> ScoringModel {
        guard let activeId else {
            throw ScoringError("no model serves yet: `pleat score` serves a trained model once it is promoted (or with --force)")
        }
        if let live, live.id == activeId { return live }
        guard let record = try ModelRegistry(db).find(activeId) else {
            throw ScoringError("the active model \(activeId) is not in the model registry")
        }
        let model = try ScoringModel.load(record, db: db, batchSize: 1)
        live = model
        return model
    }
}

/// PostgreSQL cannot be reached (or did not answer in time) and the cache cannot answer alone: the
/// server says 503 with Retry-After.
public struct RecommenderUnavailable: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public var description: String { "recommendations are unavailable: \(reason)" }
}
