import PleatCore

/// The `users` table: each user's external id and the dense id Pleat gave it.
public struct UserTable {
    let db: PostgresConnection
    public init(_ db: PostgresConnection) { self.db = db }

    /// Every user's external id, by database id.
    public func externalIds() throws -> [Int32: String] {
        let result = try db.query("SELECT id, external_id FROM users")
        var byId: [Int32: String] = [:]
        byId.reserveCapacity(result.rowCount)
        for row in result.rows { byId[try row.int32("id")] = try row.string("external_id") }
        return byId
    }

    /// How many users `shard` owns.
    public func count(in shard: Shard) throws -> Int {
        try db.query("SELECT count(*) AS users FROM users u" + (shard.count > 1 ? " WHERE \(shard.sqlCondition(usersAlias: "u"))" : ""))
            .only("users count").int("users")
    }

    /// The database ids of the users with events in the ingest batches after `afterBatch` up to
    /// `throughBatch`: who has done something since a model's data snapshot (a warm start trains them).
    public func withEvents(afterBatch: Int, throughBatch: Int) throws -> Set<Int32> {
        Set(try db.query("SELECT DISTINCT user_id FROM interactions WHERE batch_id > $1 AND batch_id <= $2",
                         [.int(afterBatch), .int(throughBatch)]).rows.map { try $0.int32("user_id") })
    }

    /// Every user with events, by external id, and how many events each has.
    public func eventCounts() throws -> [(user: String, events: Int)] {
        try db.query("SELECT u.external_id, count(*) AS events FROM users u JOIN interactions i ON i.user_id = u.id GROUP BY u.external_id")
            .rows.map { (try $0.string("external_id"), try $0.int("events")) }
    }

    static let newestEventSQL = """
        SELECT u.id, (SELECT \(PostgresTimestamp.unixSecondSQL("max(i.occurred_at)")) FROM interactions i
                      WHERE i.user_id = u.id AND i.shard = \(InteractionPartitions.sqlPartition(usersAlias: "u"))) AS newest
        FROM users u WHERE u.external_id = $1
        """

    /// The user's database id and the Unix second of their newest event (nil without events); nil for a
    /// user the table does not hold. What decides whether a cached list is still current.
    public func newestEvent(of externalId: String) throws -> (id: Int, second: Int64?)? {
        guard let row = try db.query(Self.newestEventSQL, [.text(externalId)]).first else { return nil }
        return (try row.int("id"), try row.optionalInt("newest").map(Int64.init))
    }

    /// One user's events in time order (as `HistoryLoader` orders them): parallel arrays of item ids,
    /// Unix seconds, event types and values (NaN: none).
    public struct History: Sendable, Equatable {
        public var items: [Int32] = [], seconds: [Int64] = [], eventTypes: [Int16] = [], values: [Float] = []
        public init() {}
        public var count: Int { items.count }
    }

    static let historySQL = """
        SELECT item_id, \(PostgresTimestamp.unixSecondSQL("occurred_at")) AS second, event_type, value FROM interactions
        WHERE user_id = $1 AND shard = (SELECT \(InteractionPartitions.sqlPartition(usersAlias: "u")) FROM users u WHERE u.id = $1)
        ORDER BY occurred_at, item_id, event_type
        """

    /// A user's events ordered by time, then item id and event type: the order any newer event joins
    /// (`Recommender`'s recent events follow it). Naming the user's partition reads that one only.
    public func history(of userId: Int) throws -> History {
        let rows = try db.query(Self.historySQL, [.int(userId)]).rows
        var history = History()
        for row in rows {
            history.items.append(try row.int32("item_id"))
            history.seconds.append(Int64(try row.int("second")))
            history.eventTypes.append(try row.int16("event_type"))
            history.values.append(try row.optionalDouble("value").map(Float.init) ?? .nan)
        }
        return history
    }
}
