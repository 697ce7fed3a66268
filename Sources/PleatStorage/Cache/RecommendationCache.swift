import Foundation
import PleatCore

/// The SQLite recommendation cache (`.pleat/cache.sqlite` by default; schema in `migrations/sqlite/`,
/// applied on open). Writers add a model's lists under its id, then `activate` switches the pointer in
/// one transaction and prunes older sets; readers follow the pointer in the same statement that reads
/// the list, so each read sees one model's set. One instance per thread (it holds one connection).
public final class RecommendationCache {
    /// One model's set of lists: how long they are and whether they may hold the user's own items.
    public struct ListSet: Sendable, Equatable {
        public let modelId: String, topK: Int, includeSeen: Bool
    }

    public let path: String
    let db: SQLiteConnection
    private let lookupStatement: SQLiteStatement
    private let activeStatement: SQLiteStatement
    private let insertStatement: SQLiteStatement

    /// The default location under a Pleat home.
    public static func defaultPath(home: PleatHome) -> String { home.url.appendingPathComponent("cache.sqlite").path }

    /// `busyTimeoutMilliseconds`: how long a write waits for another writer's transaction.
    public init(path: String, migrations: URL? = nil, busyTimeoutMilliseconds: Int32 = 5_000, pruneChunk: Int = 2_000) throws {
        self.path = path
        self.pruneChunk = pruneChunk
        db = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        _ = try Migrator(migrations: migrations.map { try Migration.load(from: $0) } ?? Migration.Source.sqlite.migrations()).migrate(db)
        lookupStatement = try db.prepare("""
            SELECT r.model_id, r.items, r.scores, r.history_until, r.computed_at
            FROM active_model a JOIN recommendations r ON r.model_id = a.model_id AND r.user_id = ? AND r.event = ?
            """)
        activeStatement = try db.prepare("""
            SELECT a.model_id, s.top_k, s.include_seen FROM active_model a JOIN recommendation_sets s ON s.model_id = a.model_id
            """)
        insertStatement = try db.prepare("""
            INSERT OR REPLACE INTO recommendations (model_id, user_id, event, items, scores, history_until, computed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
    }

    /// The model whose lists readers see, and how its set was scored (its length and whether lists may
    /// hold the user's own items, which live scoring repeats); nil before the first `activate`.
    public func activeSet() throws -> ListSet? {
        activeStatement.bind()
        defer { activeStatement.reset() }
        return try activeStatement.step() ? ListSet(modelId: activeStatement.text(0), topK: Int(activeStatement.int(1)), includeSeen: activeStatement.int(2) != 0) : nil
    }

    /// When the set readers see was scored and switched in: how old the served lists are (`/metrics`).
    public struct Activation: Sendable, Equatable {
        public let modelId: String
        /// Unix seconds when its scoring finished (nil: activated before it finished, which `activate`
        /// never does, so only an older cache file has it).
        public let scoredAt: Double?
        public let switchedAt: Double
        /// Users with a list in the set when it was activated.
        public let users: Int
    }

    /// The active set's `Activation`; nil before the first `activate`.
    public func activation() throws -> Activation? {
        let row = try db.prepare("""
            SELECT a.model_id, s.finished_at, a.switched_at, s.users FROM active_model a JOIN recommendation_sets s ON s.model_id = a.model_id
            """)
        guard try row.step() else { return nil }
        return Activation(modelId: row.text(0), scoredAt: row.isNull(1) ? nil : row.double(1), switchedAt: row.double(2), users: Int(row.int(3)))
    }

    /// The active model's list for `user` answering for `event` ("": the model's own question), with
    /// that model's id; nil when there is none.
    public func lookup(user: String, event: String = "") throws -> (modelId: String, list: RankedList)? {
        lookupStatement.bind(.text(user), .text(event))
        defer { lookupStatement.reset() }
        guard try lookupStatement.step() else { return nil }
        return (lookupStatement.text(0), try Self.list(lookupStatement, from: 1, user: user, event: event))
    }

    /// The list in columns `first`… (items JSON, scores blob, history_until, computed_at) of the row
    /// `statement` stands on.
    static func list(_ statement: SQLiteStatement, from first: Int, user: String, event: String) throws -> RankedList {
        let items = try JSONDecoder().decode([String].self, from: Data(statement.text(first).utf8))
        let raw = statement.blob(first + 1)
        let scores = (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        return RankedList(user: user, event: event, items: items, scores: scores, historyUntil: statement.int(first + 2),
                          computedAt: statement.double(first + 3))
    }

    /// How the set of `modelId` was scored, active or not; nil when the cache has none.
    public func set(modelId: String) throws -> ListSet? {
        let statement = try db.prepare("SELECT top_k, include_seen FROM recommendation_sets WHERE model_id = ?").bind(.text(modelId))
        return try statement.step() ? ListSet(modelId: modelId, topK: Int(statement.int(0)), includeSeen: statement.int(1) != 0) : nil
    }

    /// Starts (or continues) the set of `modelId`, its lists `topK` long and holding the user's own items
    /// or not (a rescoring of every user may change both).
    public func beginSet(modelId: String, topK: Int, includeSeen: Bool) throws {
        try db.prepare("""
            INSERT INTO recommendation_sets (model_id, top_k, include_seen, started_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (model_id) DO UPDATE SET top_k = excluded.top_k, include_seen = excluded.include_seen
            """).bind(.text(modelId), .integer(Int64(topK)), .integer(includeSeen ? 1 : 0), .real(Date().timeIntervalSince1970)).run()
    }

    /// Writes (or replaces) lists under `modelId` in one transaction.
    public func write(_ lists: [RankedList], modelId: String) throws {
        try db.transaction { for list in lists { try insert(list, modelId: modelId) } }
    }

    /// Writes one list computed live, but only while `modelId` is the active model, checked inside the
    /// write transaction (which activation's switch also takes): false when it is not, and nothing was
    /// written. So a live list can never be left under a model that was switched away and pruned.
    @discardableResult
    public func writeThrough(_ list: RankedList, modelId: String) throws -> Bool {
        try db.transaction {
            activeStatement.bind()
            defer { activeStatement.reset() }
            guard try activeStatement.step(), activeStatement.text(0) == modelId else { return false }
            try insert(list, modelId: modelId)
            return true
        }
    }

    private func insert(_ list: RankedList, modelId: String) throws {
        var bytes = [UInt8]()
        bytes.reserveCapacity(list.scores.count * 4)
        for s in list.scores { withUnsafeBytes(of: s.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        try insertStatement.bind(.text(modelId), .text(list.user), .text(list.event),
                                 .text(String(decoding: try JSONEncoder().encode(list.items), as: UTF8.self)),
                                 .blob(bytes), .integer(list.historyUntil), .real(list.computedAt)).run()
    }

    /// Removes `user`'s list from every set (the latency benchmark's way to force live scoring).
    public func remove(user: String) throws {
        try db.prepare("DELETE FROM recommendations WHERE user_id = ?").bind(.text(user)).run()
    }

    /// When each user's list under `modelId` for `event` was computed from (`historyUntil`).
    public func historyMarks(modelId: String, event: String = "") throws -> [String: Int64] {
        let rows = try db.prepare("SELECT user_id, history_until FROM recommendations WHERE model_id = ? AND event = ?")
            .bind(.text(modelId), .text(event))
        var marks: [String: Int64] = [:]
        while try rows.step() { marks[rows.text(0)] = rows.int(1) }
        return marks
    }

    /// Rows deleted per transaction when old sets are pruned (default 2,000): each transaction holds the
    /// write lock for a few milliseconds, so a live write-through waiting on it stays far inside the busy
    /// timeout.
    public let pruneChunk: Int

    /// Makes `modelId`'s set the one readers see (one short transaction), then deletes the other complete
    /// sets (and abandoned ones, started more than a day ago) in chunks of `pruneChunk` rows; a set
    /// another writer is still filling stays.
    public func activate(modelId: String) throws {
        try db.transaction {
            try db.prepare("""
                UPDATE recommendation_sets SET finished_at = ?,
                    users = (SELECT count(DISTINCT user_id) FROM recommendations WHERE model_id = ?) WHERE model_id = ?
                """).bind(.real(Date().timeIntervalSince1970), .text(modelId), .text(modelId)).run()
            try db.prepare("""
                INSERT INTO active_model (id, model_id, switched_at) VALUES (1, ?, ?)
                ON CONFLICT (id) DO UPDATE SET model_id = excluded.model_id, switched_at = excluded.switched_at
                """).bind(.text(modelId), .real(Date().timeIntervalSince1970)).run()
        }
        let stale = "model_id <> ? AND (finished_at IS NOT NULL OR started_at < ?)"
        let dayAgo = Date().timeIntervalSince1970 - 86_400
        let chunk = try db.prepare("""
            DELETE FROM recommendations WHERE (model_id, user_id) IN (
                SELECT model_id, user_id FROM recommendations
                WHERE model_id IN (SELECT model_id FROM recommendation_sets WHERE \(stale)) LIMIT \(pruneChunk))
            """)
        // Between chunks the lock is left free for as long as the chunk held it, so writers waiting on it
        // (the server's write-throughs) get in: pruning takes at most half of the lock's time.
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            guard try db.transaction({ try chunk.bind(.text(modelId), .real(dayAgo)).run(); return db.changes }) > 0 else { break }
            usleep(UInt32(max(1_000, min(100_000, (DispatchTime.now().uptimeNanoseconds - start) / 1_000))))
        }
        try db.transaction {
            // Their rows are gone: write-throughs only ever add to the active set.
            try db.prepare("DELETE FROM recommendation_sets WHERE \(stale)").bind(.text(modelId), .real(dayAgo)).run()
        }
    }
}
