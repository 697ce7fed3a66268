/// The partitions of `interactions` (migration 0004: hash on `user_id`, 16 of them). A user's events are
/// all in one partition, so partitions can be read independently and in parallel.
public enum InteractionPartitions {
    /// The number of partitions migration 0004 creates.
    public static let count = 16

    public struct Partition: Sendable, Equatable {
        public let table: String
        /// The planner's row estimate (0 before the first ANALYZE).
        public let estimatedRows: Int

        public init(table: String, estimatedRows: Int) { (self.table, self.estimatedRows) = (table, estimatedRows) }
    }

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
