import Foundation
import XCTest
import PleatCore
import PleatStorage
import PleatTestSupport

/// Migrations 0004 and 0006: interactions partitioned by user (by the shard hash since 0006), the shard
/// hash in the database, and the schema rules that let the same schema run distributed on Citus (docs/citus.md).
final class PartitioningTests: XCTestCase {
    /// A database populated under migrations 0001-0003 keeps every row through 0004 and 0006, each user's
    /// rows in one partition, and users get the shard hash that Swift computes.
    func testMigrationToPartitionsOnAPopulatedDatabase() throws {
        let db = try PostgresConnection(url: try TestDatabase.fresh(migrated: false))
        let all = try Migration.load(from: TestDatabase.migrationsDirectory)
        XCTAssertEqual(all.first { $0.version == 4 }?.name, "partitioned_interactions")
        _ = try Migrator(migrations: all.filter { $0.version <= 3 }).migrate(db)
        XCTAssertEqual(try InteractionPartitions.list(db).map(\.table), ["interactions"], "not partitioned before 0004")
        let ids = ["1", "42", "user_1000", "u-0007", "José", "用户", "a'b", ""] + (0..<300).map { "u\($0)" }
        _ = try db.execute("INSERT INTO ingest_batches (source, format, sha256, status, started_at) VALUES ('t', 'csv', 'x', 'committed', now())")
        _ = try db.query("INSERT INTO users (id, external_id, batch_id) SELECT n, external, 1 FROM unnest($1::text[]) WITH ORDINALITY AS t(external, n)",
                         [.textArray(ids)])
        _ = try db.execute("""
            INSERT INTO items (id, external_id, batch_id) SELECT n, 'i' || n, 1 FROM generate_series(1, 50) n;
            INSERT INTO interactions (occurred_at, user_id, item_id, value, event_type, batch_id)
                SELECT to_timestamp(1000 + e), u, 1 + (u * 7 + e) % 50, NULL, 0, 1 FROM generate_series(1, \(ids.count)) u, generate_series(1, u % 9 + 1) e;
            """)
        let before = try Self.fingerprint(db)

        let outcome = try Migrator(migrations: all).migrate(db)
        XCTAssertEqual(outcome.applied.map(\.version), all.filter { $0.version > 3 }.map(\.version))
        XCTAssertEqual(try Self.fingerprint(db), before, "every row kept, unchanged")
        let partitions = try InteractionPartitions.list(db)
        XCTAssertEqual(partitions.count, InteractionPartitions.count)
        XCTAssertEqual(partitions.first?.table, "interactions_p00")
        XCTAssertEqual(try db.query("SELECT count(*) FROM interactions_p03").int(0, 0).map { $0 > 0 }, true, "rows spread over partitions")
        XCTAssertEqual(try db.query("""
            SELECT count(*) FROM (SELECT user_id FROM (SELECT tableoid, user_id FROM interactions) t GROUP BY user_id HAVING count(DISTINCT tableoid) > 1) s
            """).int(0, 0), 0, "a user's events are in one partition")
        // 0006: listed by the shard hash's partition, which every moved row carries.
        XCTAssertEqual(try db.query("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'interactions'::regclass").string(0, 0), "l")
        XCTAssertEqual(try db.query("""
            SELECT count(*) FROM interactions i JOIN users u ON u.id = i.user_id WHERE i.shard <> u.shard_hash % 16
            """).int(0, 0), 0, "every row in its user's shard partition")

        let hashes = try db.query("SELECT external_id, shard_hash FROM users")
        XCTAssertEqual(hashes.rowCount, ids.count)
        for r in 0..<hashes.rowCount {
            XCTAssertEqual(hashes.int(r, 1), Int(Shard.hash(hashes.string(r, 0)!)), "SQL and Swift agree for '\(hashes.string(r, 0)!)'")
        }
        // New users get it too, and the shard condition selects exactly the users Swift assigns.
        _ = try db.execute("INSERT INTO users (id, external_id, batch_id) VALUES (100000, 'new user ü', 1)")
        XCTAssertEqual(try db.query("SELECT shard_hash FROM users WHERE id = 100000").int(0, 0), Int(Shard.hash("new user ü")))
        let shard = try Shard(index: 2, count: 5)
        let selected = try db.query("SELECT external_id FROM users u WHERE \(shard.sqlCondition(usersAlias: "u"))")
        XCTAssertEqual(Set((0..<selected.rowCount).map { selected.string($0, 0)! }), Set((ids + ["new user ü"]).filter(shard.owns)))
    }

    /// Citus's rules for `create_distributed_table('interactions', 'user_id')` with every other table a
    /// reference table: each unique key of a distributed table includes the distribution column; a
    /// distributed table has foreign keys only to reference tables (or co-located on the column); no
    /// reference table has a foreign key to a distributed table.
    func testSchemaFollowsCitusRules() throws {
        let db = try PostgresConnection(url: try TestDatabase.fresh())
        let distributed = ["interactions": "user_id"]
        let tables = try db.query("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1
            """)
        let allTables = Set((0..<tables.rowCount).map { tables.string($0, 0)! })
        let reference: Set = ["ingest_batches", "users", "items", "item_metadata", "event_types", "rejected_rows", "models",
                              "promotions", "evaluation_runs", "job_runs", "schema_migrations"]
        XCTAssertEqual(allTables, reference.union(distributed.keys), "every table has its Citus kind in docs/citus.md")

        // Unique keys (primary keys, unique constraints and unique indexes) of distributed tables.
        let unique = try db.query("""
            SELECT t.relname, i.relname, array_to_string(array(SELECT a.attname FROM unnest(x.indkey) k JOIN pg_attribute a
                   ON a.attrelid = t.oid AND a.attnum = k), ',')
            FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE x.indisunique AND n.nspname = 'public' AND NOT t.relispartition
            """)
        var checked = 0
        for r in 0..<unique.rowCount {
            guard let column = distributed[unique.string(r, 0)!] else { continue }
            let columns = unique.string(r, 2)!.split(separator: ",").map(String.init)
            XCTAssertTrue(columns.contains(column), "unique key \(unique.string(r, 1)!) on \(unique.string(r, 0)!) lacks \(column): \(columns)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 0, "interactions has its primary key")

        let foreignKeys = try db.query("""
            SELECT c.conname, s.relname, t.relname FROM pg_constraint c JOIN pg_class s ON s.oid = c.conrelid
            JOIN pg_class t ON t.oid = c.confrelid JOIN pg_namespace n ON n.oid = s.relnamespace
            WHERE c.contype = 'f' AND n.nspname = 'public' AND NOT s.relispartition
            """)
        XCTAssertGreaterThan(foreignKeys.rowCount, 0)
        for r in 0..<foreignKeys.rowCount {
            let (name, from, to) = (foreignKeys.string(r, 0)!, foreignKeys.string(r, 1)!, foreignKeys.string(r, 2)!)
            if distributed[from] != nil {
                XCTAssertTrue(reference.contains(to), "\(name): distributed \(from) → \(to), not a reference table")
            } else {
                XCTAssertNil(distributed[to], "\(name): reference table \(from) references distributed \(to)")
            }
        }
    }

    /// Row count and an order-independent checksum of every interaction.
    static func fingerprint(_ db: PostgresConnection) throws -> [String] {
        let r = try db.query("""
            SELECT count(*)::text, sum(hashtext(user_id || ',' || item_id || ',' || occurred_at || ',' || event_type || ',' || batch_id)::bigint)::text FROM interactions
            """)
        return [r.string(0, 0)!, r.string(0, 1) ?? "null"]
    }
}
