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

    func testSocketDirectoriesThatWouldNeedQuotingOrAreTooLongAreFreshPrivateDirectories() throws {
        XCTAssertEqual(try LocalCluster.Layout.socketDirectory(preferred: "/tmp/short/run"), "/tmp/short/run")
        for awkward in ["/tmp/" + String(repeating: "d", count: 120) + "/run", "/tmp/with space/run", "/tmp/it's/run", "/tmp/$(x)/run"] {
            let chosen = try LocalCluster.Layout.socketDirectory(preferred: awkward)
            let again = try LocalCluster.Layout.socketDirectory(preferred: awkward)
            defer { for made in [chosen, again] { try? FileManager.default.removeItem(atPath: made) } }
            XCTAssertTrue(chosen.hasPrefix("/tmp/pleat-pg-"), chosen)
            XCTAssertNotEqual(chosen, again, "never a predictable name")
            let mode = try FileManager.default.attributesOfItem(atPath: chosen)[.posixPermissions] as? Int
            XCTAssertEqual(mode, 0o700, "\(chosen) is private")
        }
    }

    /// A `PLEAT_HOME` with spaces, quotes and `$(…)`, inside a directory only its owner may enter (root's
    /// home in a container): the cluster starts (the server's files go where its user can reach them),
    /// nothing in the path is executed, the socket directory is private, and only peer authentication
    /// is configured.
    func testAClusterStartsForItsOwnerAnywhereAndOnlyItsOwnerMayConnect() throws {
        let marker = "/tmp/pleat-pwned-\(getpid())"
        let locked = URL(fileURLWithPath: "/tmp/pleat-locked-\(getpid())")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: locked) }
        let home = PleatHome(path: locked.path + "/a home with 'single' and \"double\" quotes $(touch \(marker))", environment: [:])
        let cluster = LocalCluster(home: home)
        defer { try? cluster.destroy() }
        XCTAssertEqual(try cluster.start(), .started)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "a path is never run through a shell")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: locked.path)[.posixPermissions] as? Int, 0o700,
                       "the user's directory keeps its permissions")
        let db = try PostgresConnection(url: cluster.url)
        XCTAssertEqual(try db.query("SELECT count(*) FROM pg_hba_file_rules WHERE auth_method <> 'peer'").int(0, 0), 0, "peer only")
        XCTAssertEqual(try db.query("SHOW listen_addresses").string(0, 0), "")
        let layout = try XCTUnwrap(cluster.recordedLayout())
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: layout.socketDirectory)[.posixPermissions] as? Int, 0o700)
        XCTAssertEqual(try cluster.start(), .alreadyRunning)
        try cluster.stop()
        XCTAssertFalse(cluster.isRunning())
        XCTAssertEqual(try cluster.start(), .started, "starts again from its recorded layout")

        // Another OS user: the socket directory is closed to it, and peer authentication would refuse it.
        guard geteuid() == 0 else { throw XCTSkip("run as root to check that another OS user is refused (a throwaway user is created)") }
        let other = "pleat-other"
        if getpwnam(other) == nil { _ = try Subprocess.run("/usr/sbin/useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", other]) }
        let psql = try Subprocess.capture("/usr/sbin/runuser", ["-u", other, "--", "/usr/bin/psql", cluster.url, "-c", "SELECT 1"])
        XCTAssertNotEqual(psql.exitCode, 0, "another user connected: \(psql.output)")
        XCTAssertTrue(psql.output.contains("Permission denied") || psql.output.contains("authentication failed"), psql.output)
    }

    /// After a crash (the postmaster killed with SIGKILL, as a machine restart leaves it) postmaster.pid
    /// still says "ready": start waits for the new server to finish recovery and accept connections
    /// rather than trusting the stale file.
    func testStartAfterACrashWaitsForRecovery() throws {
        let directory = URL(fileURLWithPath: "/tmp/pleat-crash-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = LocalCluster(home: PleatHome(path: directory.path, environment: [:]))
        defer { try? cluster.destroy() }
        XCTAssertEqual(try cluster.start(), .started)
        _ = try PostgresConnection(url: cluster.url).execute("CREATE TABLE kept AS SELECT 42 AS answer")
        let layout = try XCTUnwrap(cluster.recordedLayout())
        let pidFile = try String(contentsOfFile: layout.dataDirectory + "/postmaster.pid", encoding: .utf8)
        let postmaster = try XCTUnwrap(pid_t(pidFile.split(separator: "\n")[0]))
        XCTAssertEqual(kill(postmaster, SIGKILL), 0)
        let deadline = Date().addingTimeInterval(10)
        while cluster.isRunning(), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.5)  // its backends notice the postmaster's death and exit
        XCTAssertTrue(try String(contentsOfFile: layout.dataDirectory + "/postmaster.pid", encoding: .utf8).contains("ready"),
                      "the stale file this test is about")
        XCTAssertEqual(try cluster.start(), .started)
        XCTAssertEqual(try PostgresConnection(url: cluster.url).query("SELECT answer FROM kept").int(0, 0), 42)
    }

    /// `pleat db remove` (and every benchmark's scratch database): nothing of the cluster survives, also
    /// where the server's files live outside `PLEAT_HOME` (as root, under the postgres user's home).
    func testDestroyStopsTheServerAndDeletesEveryFileOfTheCluster() throws {
        let directory = URL(fileURLWithPath: "/tmp/pleat-destroy-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = LocalCluster(home: PleatHome(path: directory.path, environment: [:]))
        XCTAssertEqual(try cluster.start(), .started)
        let layout = try XCTUnwrap(cluster.recordedLayout())
        let pidFile = try String(contentsOfFile: layout.dataDirectory + "/postmaster.pid", encoding: .utf8)
        let postmaster = try XCTUnwrap(pid_t(pidFile.split(separator: "\n")[0]))

        try cluster.destroy()
        XCTAssertFalse(cluster.isRunning())
        // A zombie (an init that does not reap) has an empty command line: only a live postmaster counts.
        let commandLine = (try? String(contentsOfFile: "/proc/\(postmaster)/cmdline", encoding: .utf8)) ?? ""
        XCTAssertFalse(commandLine.contains(layout.dataDirectory), "the postmaster \(postmaster) still runs")
        for path in [layout.dataDirectory, layout.socketDirectory, layout.logFile, cluster.directory.path] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: path), "\(path) was left behind")
        }
        XCTAssertNil(cluster.recordedLayout())
        XCTAssertEqual(try cluster.start(), .started, "a removed cluster can be made again")
        try cluster.destroy()
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
