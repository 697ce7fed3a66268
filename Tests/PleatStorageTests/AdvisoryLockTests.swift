import Foundation
import XCTest
import PleatTestSupport
@testable import PleatStorage

/// A job's lock outlives a dropped connection when nobody else wants it, and is reported lost when
/// someone took it meanwhile.
final class AdvisoryLockTests: XCTestCase {
    /// Ends the server session holding the advisory lock `name`, as a restart or a network failure would.
    private func dropHolder(_ name: String, admin: PostgresConnection) throws {
        let pid = try XCTUnwrap(holderPid(name, admin: admin))
        // pg_terminate_backend only signals: wait until the session is gone and its lock free (on a
        // loaded machine that took longer than the rival's first try).
        _ = try admin.query("SELECT pg_terminate_backend($1::int, 5000)", [.text(pid)])
        let deadline = Date().addingTimeInterval(10)
        while try admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1::int", [.text(pid)]).rowCount > 0, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// The pid of the session holding the advisory lock `name`, if any.
    private func holderPid(_ name: String, admin: PostgresConnection) throws -> String? {
        let rows = try admin.query("""
            SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = (hashtext($1)::bigint & 4294967295)::oid AND granted
            """, [.text(name)])
        return rows.rowCount == 1 ? rows.string(0, 0) : nil
    }

    func testTheLockIsTakenAgainAfterItsConnectionDrops() throws {
        let url = try TestDatabase.fresh(), admin = try PostgresConnection(url: url)
        let lock = try AdvisoryLock(url: url, name: "pleat.test.kept", checkInterval: 0.1)
        XCTAssertTrue(try lock.tryAcquire())
        let first = try holderPid("pleat.test.kept", admin: admin)
        try dropHolder("pleat.test.kept", admin: admin)
        // The keeper takes it again on a new session; on a loaded machine that can take a while.
        let deadline = Date().addingTimeInterval(10)
        var second: String?
        while Date() < deadline {
            second = try holderPid("pleat.test.kept", admin: admin)
            if second != nil, second != first { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertNotNil(second)
        XCTAssertNotEqual(second, first, "held again, by a new session")
        XCTAssertNoThrow(try lock.check())
        XCTAssertTrue(lock.isHeld)
        let rival = try AdvisoryLock(url: url, name: "pleat.test.kept")
        XCTAssertFalse(try rival.tryAcquire(), "held again, on a new connection")
        lock.release()
        XCTAssertTrue(try rival.tryAcquire())
    }

    func testALockTakenByAnotherProcessWhileTheConnectionWasDownIsReportedLost() throws {
        let url = try TestDatabase.fresh(), admin = try PostgresConnection(url: url)
        // The keeper's timer is set far away and the test runs its check itself, after the rival came in:
        // racing a timer made this test fail on loaded machines.
        let lock = try AdvisoryLock(url: url, name: "pleat.test.lost", checkInterval: 3600)
        XCTAssertTrue(try lock.tryAcquire())
        try dropHolder("pleat.test.lost", admin: admin)
        let rival = try AdvisoryLock(url: url, name: "pleat.test.lost")
        XCTAssertTrue(try rival.tryAcquire(), "free once its session ended")
        XCTAssertFalse(lock.keepOnce(), "nothing left to keep")
        XCTAssertFalse(lock.isHeld)
        XCTAssertThrowsError(try lock.check()) { XCTAssertTrue("\($0)".contains("lost the lock"), "\($0)") }
    }
}
