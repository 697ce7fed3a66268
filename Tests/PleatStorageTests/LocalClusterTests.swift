import Foundation
import XCTest
@testable import PleatStorage
import PleatCore
import PleatTestSupport

final class LocalClusterTests: XCTestCase {
    func testStartIsIdempotentAndUsesAUnixSocket() throws {
        _ = try TestDatabase.fresh()  // make sure the suite's cluster is up
        guard let cluster = TestDatabase.cluster else { throw XCTSkip("tests use an external server") }
        XCTAssertTrue(cluster.isRunning())
        XCTAssertEqual(try cluster.start(), .alreadyRunning)
        let db = try PostgresConnection(url: cluster.url)
        XCTAssertEqual(try db.query("SHOW listen_addresses").string(0, 0), "", "no TCP listener")
        XCTAssertEqual(try db.query("SELECT inet_server_addr() IS NULL").bool(0, 0), true, "connected over a Unix socket")
    }

    func testLongDirectoriesFallBackToAShortSocketPath() {
        let deep = URL(fileURLWithPath: "/tmp/" + String(repeating: "d", count: 120))
        let cluster = LocalCluster(directory: deep)
        XCTAssertLessThan(cluster.socketDirectory.path.utf8.count + 15, 107)
        XCTAssertEqual(cluster.socketDirectory, LocalCluster(directory: deep).socketDirectory, "stable across calls")
    }

    func testExternalURLWinsOverLocalCluster() {
        let home = PleatHome(path: "/tmp/somewhere", environment: [:])
        if case .external(let url) = DatabaseLocation.resolve(home: home, environment: ["DATABASE_URL": "postgresql://h/db"]) {
            XCTAssertEqual(url, "postgresql://h/db")
        } else { XCTFail("DATABASE_URL ignored") }
        if case .local(let cluster) = DatabaseLocation.resolve(home: home, environment: [:]) {
            XCTAssertEqual(cluster.directory.path, "/tmp/somewhere/postgres")
        } else { XCTFail("expected the local cluster") }
    }

    func testConnectionErrorsAreClear() {
        XCTAssertThrowsError(try PostgresConnection(url: "postgresql:///nope?host=/tmp/no-such-dir&user=x")) { error in
            XCTAssertTrue("\(error)".contains("cannot connect"), "\(error)")
        }
    }
}
