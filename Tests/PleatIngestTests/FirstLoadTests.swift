import Foundation
import XCTest
import PleatIngest
import PleatStorage
import PleatTestSupport

/// The first load into an empty database writes no WAL on Pleat's own cluster (`wal_level = minimal`),
/// stores the same rows, and never makes a reader of a populated database wait.
final class FirstLoadTests: IngestTestCase {
    /// `users` users with `events` events each, users numbered from `firstUser`.
    private func log(_ name: String, users: Range<Int>, events: Int) throws -> String {
        var text = "user,item,time\n"
        for u in users { for e in 0..<events { text += "u\(u),i\((u * 7 + e) % 500),\(1_000 + e)\n" } }
        return try write(name, text)
    }

    /// WAL bytes written while `body` runs on the test's connection.
    private func walBytes(_ body: () throws -> Void) throws -> Int {
        let start = try db.query("SELECT pg_current_wal_insert_lsn()").string(0, 0)!
        try body()
        return try db.query("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::bigint", [.text(start)]).int(0, 0)!
    }

    func testTheFirstLoadSkipsTheWALAndLaterLoadsDoNot() throws {
        guard try db.query("SHOW wal_level").string(0, 0) == "minimal" else {
            throw XCTSkip("the test server's wal_level is not minimal (PLEAT_TEST_DATABASE_URL?)")
        }
        // Without this, files under 2 MB would be written to the WAL whole at commit, as small tables should.
        try db.execute("SET wal_skip_threshold = 0")
        let first = try log("first.csv", users: 0..<400, events: 50)
        let second = try log("second.csv", users: 400..<800, events: 50)
        var reports: [IngestReport] = []
        let firstWAL = try walBytes { reports.append(try ingest(first, .csv)) }
        let secondWAL = try walBytes { reports.append(try ingest(second, .csv)) }

        XCTAssertEqual(reports.map(\.firstLoad), [true, false], "only the load into the empty table is a first load")
        XCTAssertEqual(reports.map(\.rowsLoaded), [20_000, 20_000])
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), 40_000)
        XCTAssertEqual(try count("SELECT count(DISTINCT tableoid) FROM interactions"), InteractionPartitions.count)
        // The same number of new users and rows: the second load logs every heap and index row (about
        // 100 bytes each), the first only its catalogue and bookkeeping.
        XCTAssertGreaterThan(secondWAL, 1_000_000)
        XCTAssertLessThan(firstWAL, secondWAL / 4, "first load \(firstWAL) WAL bytes against \(secondWAL)")
        XCTAssertEqual(try history("u3").count, 50)
    }

    /// A reader inside a partition when the first load starts: the load neither waits for it nor blocks
    /// it; it goes through the WAL and stores the same rows.
    func testAReaderHoldingAPartitionIsNotWaitedFor() throws {
        let reader = try PostgresConnection(url: url)
        try reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        _ = try reader.query("SELECT count(*) FROM interactions_p05")
        let path = try log("a.csv", users: 0..<50, events: 10)
        let report = try ingest(path, .csv)
        XCTAssertFalse(report.firstLoad)
        XCTAssertEqual(report.rowsLoaded, 500)
        XCTAssertEqual(try reader.query("SELECT count(*) FROM interactions_p05").int(0, 0), 0, "the reader's snapshot")
        try reader.execute("COMMIT")
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), 500)
    }

    /// A first load that stores nothing (too many bad rows) leaves an empty, usable table behind.
    func testAnAbortedFirstLoadLeavesTheTableEmptyAndUsable() throws {
        let bad = try write("bad.csv", "user,item,time\nu1,i1,1\nu1,i2,not-a-time\nu2,i1,x\n")
        let aborted = try ingest(bad, .csv, maxRejectRate: 0.1)
        XCTAssertEqual(aborted.status, .aborted)
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), 0)
        let good = try ingest(try log("good.csv", users: 0..<20, events: 5), .csv)
        XCTAssertTrue(good.firstLoad)
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), 100)
    }
}
