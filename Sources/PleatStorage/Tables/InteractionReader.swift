import PleatCore

/// Reads `interactions` in primary-key order (user, then time) inside one repeatable-read, read-only
/// snapshot, which other connections can join (`exportSnapshot`, `init(joining:)`) so that readers of
/// different partitions see exactly the same data.
public struct InteractionReader {
    /// Which events a read keeps: those of ingest batches up to `upToBatch` (nil: all), of the users a
    /// shard owns.
    public struct Filter: Sendable {
        public var upToBatch: Int?, shard: Shard
        public init(upToBatch: Int? = nil, shard: Shard = .all) { (self.upToBatch, self.shard) = (upToBatch, shard) }

        var whereClause: String {
            var conditions: [String] = []
            if let upToBatch { conditions.append("batch_id <= \(upToBatch)") }
            if shard.count > 1 {
                // A shard whose count divides the partitions' is whole partitions: naming them lets
                // PostgreSQL read only those. Any other count selects its users by their hash.
                if let numbers = InteractionPartitions.numbers(of: shard) {
                    conditions.append("shard IN (\(numbers.map(String.init).joined(separator: ", ")))")
                } else {
                    conditions.append("user_id IN (SELECT u.id FROM users u WHERE \(shard.sqlCondition(usersAlias: "u")))")
                }
            }
            return conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        }
    }

    let db: PostgresConnection

    /// Runs `body` with a reader in a fresh repeatable-read, read-only transaction of `db`.
    public static func inSnapshot<T>(_ db: PostgresConnection, _ body: (InteractionReader) throws -> T) throws -> T {
        try db.transaction {
            try db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return try body(InteractionReader(db: db))
        }
    }

    /// Runs `body` with a reader in a transaction of `db` that sees the snapshot another reader exported.
    public static func joining<T>(_ snapshot: String, on db: PostgresConnection, _ body: (InteractionReader) throws -> T) throws -> T {
        try db.transaction {
            try db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            try db.execute("SET TRANSACTION SNAPSHOT '\(snapshot.filter { $0.isHexDigit || $0 == "-" })'")
            return try body(InteractionReader(db: db))
        }
    }

    /// The snapshot's id, for other connections to join.
    public func exportSnapshot() throws -> String {
        try db.query("SELECT pg_export_snapshot() AS snapshot").only("pg_export_snapshot").string("snapshot")
    }

    /// The newest committed ingest batch this snapshot sees (`IngestBatches.newestCommitted`).
    public func newestCommittedBatch() throws -> Int { try IngestBatches.newestCommitted(db) }

    /// The partitions that can hold users of `shard`: all of them unless the shard is whole partitions.
    public func partitions(of shard: Shard = .all) throws -> [InteractionPartitions.Partition] {
        let all = try InteractionPartitions.list(db)
        guard let numbers = InteractionPartitions.numbers(of: shard) else { return all }
        return all.filter { $0.number.map(numbers.contains) ?? true }
    }

    /// The statement `events(of:filter:)` runs, for `EXPLAIN`.
    public static func eventsQuery(of table: String, filter: Filter) -> String {
        """
        SELECT \(StoredEvent.columns) FROM "\(table)" \(filter.whereClause)
        ORDER BY user_id, occurred_at, item_id, event_type
        """
    }

    /// Every event of `table` (`interactions` or one of its partitions) that passes `filter`, in key
    /// order.
    public func events(of table: String, filter: Filter, _ event: (StoredEvent) throws -> Void) throws {
        try db.copyOutBinary("COPY (\(Self.eventsQuery(of: table, filter: filter))) TO STDOUT (FORMAT binary)") { fields in
            // Every column but the value is NOT NULL in the schema.
            guard fields.count == 5, let user = fields[0], let item = fields[1], let time = fields[2], let behaviour = fields[3] else {
                throw PostgresError("interactions: a NULL in a NOT NULL column")
            }
            try event(StoredEvent(user: user.loadBigEndian(Int32.self), item: item.loadBigEndian(Int32.self),
                                  second: PostgresTimestamp.unixSeconds(binary: time.loadBigEndian(Int64.self)),
                                  behaviour: behaviour.loadBigEndian(Int16.self),
                                  value: fields[4].map { Float(bitPattern: $0.loadBigEndian(UInt32.self)) } ?? .nan))
        }
    }
}
