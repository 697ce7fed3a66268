import Foundation
import XCTest
import PleatTestSupport
@testable import PleatStorage

/// A job's lock outlives a dropped connection when nobody else wants it, and is reported lost when
/// someone took it meanwhile.
final class AdvisoryLockTests: XCTestCase {
    /// Ends the server session holding the advisory lock `name`, as a restart or a network failure would.
    private func dropHolder(_ name: String, admin: PostgresConnection) throws {
        let holder = try admin.query("""
            SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = (hashtext($1)::bigint & 4294967295)::oid AND granted
            """, [name])
        XCTAssertEqual(holder.rowCount, 1)
        // pg_terminate_backend only signals: wait until the session is gone and its lock free (on a
        // loaded machine that took longer than the rival's first try).
        _ = try admin.query("SELECT pg_terminate_backend($1::int, 5000)", [holder.string(0, 0)])
        let deadline = Date().addingTimeInterval(10)
        while try admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1::int", [holder.string(0, 0)]).rowCount > 0, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    func testTheLockIsTakenAgainAfterItsConnectionDrops() throws {
        let url = try TestDatabase.fresh(), admin = try PostgresConnection(url: url)
        let lock = try AdvisoryLock(url: url, name: "pleat.test.kept", checkInterval: 0.1)
        XCTAssertTrue(try lock.tryAcquire())
        try dropHolder("pleat.test.kept", admin: admin)
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertNoThrow(try lock.check())
        XCTAssertTrue(lock.isHeld)
        let rival = try AdvisoryLock(url: url, name: "pleat.test.kept")
        XCTAssertFalse(try rival.tryAcquire(), "held again, on a new connection")
        lock.release()
        XCTAssertTrue(try rival.tryAcquire())
    }

    func testALockTakenByAnotherProcessWhileTheConnectionWasDownIsReportedLost() throws {
        let url = try TestDatabase.fresh(), admin = try PostgresConnection(url: url)
        // The keeper looks every 2 s, so the rival (trying as soon as the session is gone) comes first.
        let lock = try AdvisoryLock(url: url, name: "pleat.test.lost", checkInterval: 2)
        XCTAssertTrue(try lock.tryAcquire())
        try dropHolder("pleat.test.lost", admin: admin)
        let rival = try AdvisoryLock(url: url, name: "pleat.test.lost")
        XCTAssertTrue(try rival.tryAcquire(), "free once its session ended")
        Thread.sleep(forTimeInterval: 4.5)
        XCTAssertFalse(lock.isHeld)
        XCTAssertThrowsError(try lock.check()) { XCTAssertTrue("\($0)".contains("lost the lock"), "\($0)") }
    }
}
