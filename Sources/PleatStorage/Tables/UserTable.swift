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

    /// Every user with events, by external id, and how many events each has.
    public func eventCounts() throws -> [(user: String, events: Int)] {
        try db.query("SELECT u.external_id, count(*) AS events FROM users u JOIN interactions i ON i.user_id = u.id GROUP BY u.external_id")
            .rows.map { (try $0.string("external_id"), try $0.int("events")) }
    }
}
