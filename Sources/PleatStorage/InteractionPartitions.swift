import PleatCore

/// The partitions of `interactions` (migration 0006: 16 of them, listed by `shard`, the user's shard hash
/// mod 16). A user's events are all in one partition, so partitions can be read independently and in
/// parallel, and a shard of N users (N dividing 16) is a set of whole partitions.
public enum InteractionPartitions {
    /// The number of partitions the migrations create.
    public static let count = 16

    public struct Partition: Sendable, Equatable {
        public let table: String
        /// The planner's row estimate (0 before the first ANALYZE).
        public let estimatedRows: Int

        public init(table: String, estimatedRows: Int) { (self.table, self.estimatedRows) = (table, estimatedRows) }

        /// The partition's number, from its name (`interactions_p07` holds `shard = 7`); nil for the
        /// unpartitioned table.
        public var number: Int? {
            guard table.hasPrefix(InteractionPartitions.namePrefix) else { return nil }
            return Int(table.dropFirst(InteractionPartitions.namePrefix.count))
        }
    }

    static let namePrefix = "interactions_p"

    /// The partition holding the events of the user with this external id (as UTF-8 bytes): the shard
    /// function's hash (`Shard.hash`, `users.shard_hash`) mod `count`.
    @inlinable @inline(__always)
    public static func partition(ofUser externalId: some Sequence<UInt8>) -> Int16 {
        Int16(truncatingIfNeeded: FNV1a.hash32(externalId) % UInt32(count))
    }

    /// The partitions that hold exactly the users of `shard`, or nil when its count does not divide
    /// `count` (its users are then spread over every partition).
    public static func numbers(of shard: Shard) -> [Int]? {
        guard count % shard.count == 0 else { return nil }
        return (0..<count).filter { $0 % shard.count == shard.index }
    }

    /// The SQL expression (over `users` aliased `alias`) of a user's partition, to name it beside the
    /// user's id so that PostgreSQL reads that partition only.
    public static func sqlPartition(usersAlias alias: String) -> String { "(\(alias).shard_hash % \(count))::smallint" }

    /// The partitions in name order; the table itself when it is not partitioned (a database migrated
    /// only up to 0003).
    public static func list(_ db: PostgresConnection) throws -> [Partition] {
        let rows = try db.query("""
            SELECT c.relname AS name, greatest(c.reltuples, 0)::bigint AS estimate FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'interactions'::regclass ORDER BY c.relname
            """)
        if rows.rowCount == 0 {
            let estimate = try db.query("SELECT greatest(reltuples, 0)::bigint AS estimate FROM pg_class WHERE oid = 'interactions'::regclass")
            return [Partition(table: "interactions", estimatedRows: try estimate.first?.int("estimate") ?? 0)]
        }
        return try rows.rows.map { Partition(table: try $0.string("name"), estimatedRows: try $0.int("estimate")) }
    }
}
