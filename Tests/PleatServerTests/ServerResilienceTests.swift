import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import PleatCore
import PleatScoring
import PleatStorage
@testable import PleatServer
import PleatTestSupport

/// The server keeps answering through a database restart, never lets slow work stall cheap requests,
/// sheds load it cannot queue, and shuts down cleanly.
final class ServerResilienceTests: XCTestCase {
    /// A cluster of the test's own, so stopping it disturbs no other test.
    static func privateCluster() throws -> (LocalCluster, String) {
        let cluster = LocalCluster(directory: try TestDatabase.scratchDirectory().appendingPathComponent("postgres"))
        try cluster.start()
        _ = try Migrator(migrations: Migration.load(from: TestDatabase.migrationsDirectory)).migrate(PostgresConnection(url: cluster.url))
        return (cluster, cluster.url)
    }

    func testCachedUsersAreAnsweredWhilePostgreSQLIsDownAndFreshAnswersReturnWithinTwoSeconds() async throws {
        let (cluster, url) = try Self.privateCluster()
        defer { try? cluster.destroy() }
        let f = try WalkFixture(url: url)
        defer { f.remove() }
        _ = try f.score(f.sasrec)
        let server = RecommendationServer(recommender: try Recommender(databaseURL: url, cachePath: f.cachePath))
        let (port, task) = try await Self.start(server)
        defer { task.cancel() }

        var (status, body, _) = try await Self.get(port, "/v1/users/u3/recommendations?k=5")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(body["freshness"] as? String, "checked")

        try cluster.stop()
        for _ in 0..<3 {  // the first request finds the connection gone, later ones skip PostgreSQL for a moment
            (status, body, _) = try await Self.get(port, "/v1/users/u3/recommendations?k=5")
            XCTAssertEqual(status, 200, "a cached user is answered while the database is down: \(body)")
            XCTAssertEqual(body["source"] as? String, "cache")
            XCTAssertEqual(body["freshness"] as? String, "unchecked")
        }
        var headers: [AnyHashable: Any] = [:]
        (status, body, headers) = try await Self.get(port, "/v1/users/nobody/recommendations?k=5")
        XCTAssertEqual(status, 503, "an uncached user cannot be answered: \(body)")
        XCTAssertEqual(headers["Retry-After"] as? String, "1")
        (status, body, _) = try await Self.get(port, "/healthz")
        XCTAssertEqual(status, 200)

        try cluster.start()
        let back = Date()
        var fresh = false
        while Date().timeIntervalSince(back) < 5 {
            (status, body, _) = try await Self.get(port, "/v1/users/u3/recommendations?k=5")
            if status == 200, body["freshness"] as? String == "checked" { fresh = true; break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let seconds = Date().timeIntervalSince(back)
        print(String(format: "fresh answers %.2f s after the database returned", seconds))
        XCTAssertTrue(fresh)
        XCTAssertLessThan(seconds, 2, "full service within 2 s of the database's return")
        (status, body, _) = try await Self.get(port, "/v1/users/nobody/recommendations?k=5")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(body["source"] as? String, "fallback")
    }

    /// With live scoring stuck (its one thread blocked and its queue of one full), /healthz and cache hits
    /// are still answered at once, and a request that needs live scoring gets 503 with Retry-After.
    func testSlowLiveScoringNeitherStallsCheapRequestsNorQueuesWithoutBound() async throws {
        let f = try WalkFixture()
        defer { f.remove() }
        _ = try f.score(f.sasrec)
        var capacity = RecommendationServer.Capacity()
        (capacity.liveThreads, capacity.liveQueue) = (1, 1)
        let server = RecommendationServer(recommender: try Recommender(databaseURL: f.url, cachePath: f.cachePath), capacity: capacity)
        let (port, task) = try await Self.start(server)
        defer { task.cancel() }
        let release = DispatchSemaphore(value: 0)
        let blocked = Task.detached { try await server.scoring.run { release.wait() } }
        for _ in 0..<200 where server.scoring.queued > 0 || server.scoring.running == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
        let queued = Task.detached { try await server.scoring.run { release.wait() } }
        for _ in 0..<200 where server.scoring.queued < 1 { try await Task.sleep(nanoseconds: 10_000_000) }
        XCTAssertEqual(server.scoring.queued, 1, "one job runs, one waits: the queue is full")
        defer { release.signal(); release.signal() }

        let start = Date()
        var (status, body, headers) = try await Self.get(port, "/healthz")
        XCTAssertEqual(status, 200)
        (status, body, _) = try await Self.get(port, "/v1/users/u7/recommendations?k=5")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(body["source"] as? String, "cache")
        XCTAssertLessThan(Date().timeIntervalSince(start), 1, "cheap requests do not wait for live scoring")
        (status, body, headers) = try await Self.get(port, "/v1/users/someone-new/recommendations?k=5")
        XCTAssertEqual(status, 503, "\(body)")
        XCTAssertEqual(headers["Retry-After"] as? String, "1")
        XCTAssertTrue((body["error"] as? String)?.contains("busy") ?? false, "\(body)")
        release.signal(); release.signal()
        _ = try await blocked.value
        _ = try await queued.value
        (status, _, _) = try await Self.get(port, "/v1/users/someone-new/recommendations?k=5")
        XCTAssertEqual(status, 200)
    }

    func testBadRequestsAreRefusedAndErrorsCarryARequestIdNotTheirText() async throws {
        let f = try WalkFixture()
        defer { f.remove() }
        _ = try f.score(f.sasrec)
        let logged = LogBox()
        let server = RecommendationServer(recommender: try Recommender(databaseURL: f.url, cachePath: f.cachePath), log: ServerLog(errors: { logged.add($0) }))
        let (port, task) = try await Self.start(server)
        defer { task.cancel() }
        var (status, body, _) = try await Self.get(port, "/v1/users/\(String(repeating: "x", count: 2_000))/recommendations")
        XCTAssertEqual(status, 400)
        XCTAssertTrue((body["error"] as? String)?.contains("longer than 1024 bytes") ?? false, "\(body)")
        // An unexpected failure: the cache's tables disappear under the running server.
        try SQLiteConnection(path: f.cachePath).execute("DROP TABLE active_model; DROP TABLE recommendations")
        var headers: [AnyHashable: Any] = [:]
        (status, body, headers) = try await Self.get(port, "/v1/users/u1/recommendations?k=5")
        XCTAssertEqual(status, 500, "\(body)")
        let id = try XCTUnwrap(headers["X-Request-Id"] as? String)
        let message = try XCTUnwrap(body["error"] as? String)
        XCTAssertTrue(message.contains(id), message)
        XCTAssertFalse(message.lowercased().contains("sqlite"), "no raw error text in the body: \(message)")
        XCTAssertTrue(logged.lines.contains { $0.contains(id) }, "the log has the request id: \(logged.lines)")
    }

    // MARK: Helpers

    static func start(_ server: RecommendationServer) async throws -> (Int, Task<Void, Error>) {
        let bound = PortBox()
        let task = Task { try await server.run(port: 0) { port in bound.set(port) } }
        return (try await bound.wait(), task)
    }

    static func get(_ port: Int, _ path: String) async throws -> (Int, [String: Any], [AnyHashable: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 10
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return (http.statusCode, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:], http.allHeaderFields)
    }
}

final class LogBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    func add(_ line: String) { lock.withLock { stored.append(line) } }
}

/// `pleat serve` as a process: SIGTERM lets the requests in flight finish and the process exits 0.
final class ServeProcessTests: XCTestCase {
    func testSIGTERMDrainsRequestsInFlightAndExitsZero() async throws {
        let pleat = TestDatabase.pleatExecutable
        guard FileManager.default.isExecutableFile(atPath: pleat.path) else { throw XCTSkip("pleat is not built") }
        let f = try WalkFixture()
        defer { f.remove() }
        _ = try f.score(f.sasrec)
        let port = 20_000 + Int(getpid() % 20_000)
        let process = Process()
        process.executableURL = pleat
        process.arguments = ["serve", "--port", String(port), "--cache", f.cachePath]
        process.environment = ProcessInfo.processInfo.environment.merging(["PLEAT_DATABASE_URL": f.url]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var up = false
        for _ in 0..<300 where !up {
            up = (try? await ServerResilienceTests.get(port, "/healthz"))?.0 == 200
            if !up { try await Task.sleep(nanoseconds: 20_000_000) }
        }
        XCTAssertTrue(up, "pleat serve came up")
        // Live requests (users without a list: scored on arrival) keep arriving while SIGTERM is sent.
        let outcomes = FailureLog()
        let load = Task.detached {
            for i in 0..<400 {
                do {
                    let (status, _, _) = try await ServerResilienceTests.get(port, "/v1/users/newcomer\(i)/recommendations?k=5")
                    outcomes.add(status == 200 ? "ok" : "status \(status)")
                } catch {
                    outcomes.add("refused")  // after the listener closed
                }
            }
        }
        try await Task.sleep(nanoseconds: 300_000_000)
        kill(process.processIdentifier, SIGTERM)
        await load.value
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 0, "a clean exit")
        let answered = outcomes.all.filter { $0 != "refused" }
        XCTAssertGreaterThan(answered.count, 0)
        XCTAssertEqual(Set(answered), ["ok"], "every request that was accepted got its full answer")
    }
}
