import Foundation
import XCTest
import PleatStorage
import PleatTestSupport

final class MigratorTests: XCTestCase {
    func testAppliesInOrderOnceAndRecordsChecksums() throws {
        let url = try TestDatabase.fresh(migrated: false)
        let db = try PostgresConnection(url: url)
        let migrations = [Migration(version: 2, name: "second", sql: "ALTER TABLE a ADD COLUMN y int"),
                          Migration(version: 1, name: "first", sql: "CREATE TABLE a (x int)")].sorted { $0.version < $1.version }
        let first = try Migrator(migrations: migrations).migrate(db)
        XCTAssertEqual(first.applied.map(\.version), [1, 2])
        let again = try Migrator(migrations: migrations).migrate(db)
        XCTAssertEqual(again.applied.count, 0)
        XCTAssertEqual(again.alreadyApplied, 2)
        let rows = try db.query("SELECT version, checksum FROM schema_migrations ORDER BY version")
        XCTAssertEqual(rows.rowCount, 2)
        XCTAssertEqual(rows.string(0, 1), migrations[0].checksum)
        XCTAssertEqual(try db.query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'a'").int(0, 0), 2)
    }

    func testRefusesWhenAnAppliedFileChanged() throws {
        let db = try PostgresConnection(url: try TestDatabase.fresh(migrated: false))
        _ = try Migrator(migrations: [Migration(version: 1, name: "first", sql: "CREATE TABLE a (x int)")]).migrate(db)
        let edited = [Migration(version: 1, name: "first", sql: "CREATE TABLE a (x bigint)"),
                      Migration(version: 2, name: "second", sql: "CREATE TABLE b (x int)")]
        XCTAssertThrowsError(try Migrator(migrations: edited).migrate(db)) { error in
            XCTAssertTrue("\(error)".contains("changed after it was applied"), "\(error)")
        }
        XCTAssertEqual(try db.query("SELECT to_regclass('b') IS NULL").bool(0, 0), true, "nothing after the check ran")
    }

    func testFailedMigrationRollsBackAndIsNotRecorded() throws {
        let db = try PostgresConnection(url: try TestDatabase.fresh(migrated: false))
        let broken = [Migration(version: 1, name: "ok", sql: "CREATE TABLE a (x int)"),
                      Migration(version: 2, name: "broken", sql: "CREATE TABLE b (x int); SELECT * FROM missing_table")]
        XCTAssertThrowsError(try Migrator(migrations: broken).migrate(db))
        XCTAssertEqual(try db.query("SELECT count(*) FROM schema_migrations").int(0, 0), 1)
        XCTAssertEqual(try db.query("SELECT to_regclass('b') IS NULL").bool(0, 0), true)
    }

    func testConcurrentMigratorsApplyOnce() throws {
        let url = try TestDatabase.fresh(migrated: false)
        // The slow first migration keeps the lock long enough for the other migrator to contend for it.
        let migrations = [Migration(version: 1, name: "slow", sql: "SELECT pg_sleep(0.5); CREATE TABLE a (x int)"),
                          Migration(version: 2, name: "counter", sql: "CREATE TABLE applied_twice_guard (x int)")]
        final class Outcomes: @unchecked Sendable {
            let lock = NSLock()
            var applied: [Int] = []
            var errors: [String] = []
        }
        let outcomes = Outcomes()
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            do {
                let count = try Migrator(migrations: migrations).migrate(PostgresConnection(url: url)).applied.count
                outcomes.lock.withLock { outcomes.applied.append(count) }
            } catch { outcomes.lock.withLock { outcomes.errors.append("\(error)") } }
        }
        XCTAssertEqual(outcomes.errors, [])
        XCTAssertEqual(outcomes.applied.sorted(), [0, 2], "one migrator applies both, the other finds nothing to do")
    }

    func testRepositoryMigrationsLoadInOrder() throws {
        let migrations = try Migration.load(from: TestDatabase.migrationsDirectory)
        XCTAssertEqual(migrations.first?.version, 1)
        XCTAssertEqual(migrations.map(\.version), migrations.map(\.version).sorted())
    }

    func testInteractionUniqueKeysStartWithUser() throws {
        let db = try PostgresConnection(url: try TestDatabase.fresh())
        let keys = try db.query("""
            SELECT pg_get_indexdef(indexrelid) FROM pg_index
            WHERE indrelid = 'interactions'::regclass AND indisunique
            """)
        XCTAssertGreaterThan(keys.rowCount, 0)
        for row in 0..<keys.rowCount {
            XCTAssertTrue(keys.string(row, 0)!.contains("(user_id,"), "scale-out: \(keys.string(row, 0)!)")
        }
    }
}
