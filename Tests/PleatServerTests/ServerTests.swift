import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import PleatCore
import PleatMetrics
import PleatScoring
import PleatServer
import PleatTestSupport
import PleatTraining

/// `pleat serve` over real HTTP on a free loopback port.
final class ServerTests: XCTestCase {
    /// Over HTTP the list is the cached one, under the set's seen-items rule: under exclude none of the
    /// user's own items, under include the same model's list with them.
    func testServedListsFollowTheSetsSeenRule() async throws {
        let f = try WalkFixture()
        defer { f.remove() }
        let rows = try f.db.query("""
            SELECT i.external_id FROM interactions x JOIN items i ON i.id = x.item_id JOIN users u ON u.id = x.user_id WHERE u.external_id = 'u5'
            """)
        let history = Set((0..<rows.rowCount).map { rows.string($0, 0)! })
        XCTAssertFalse(history.isEmpty)
        var ownItemsServed = [SeenItems: Int]()
        for seen in SeenItems.allCases {
            _ = try f.score(f.sasrec, seen: seen, topK: 100)
            let server = RecommendationServer(recommender: try Recommender(databaseURL: f.url, cachePath: f.cachePath))
            let bound = PortBox()
            let task = Task { try await server.run(port: 0) { port in bound.set(port) } }
            let port = try await bound.wait()
            let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/v1/users/u5/recommendations?k=100")!)
            task.cancel()
            let body = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let served = try XCTUnwrap(body["items"] as? [[String: Any]]).compactMap { $0["item"] as? String }
            XCTAssertEqual(served, try XCTUnwrap(try f.cache().lookup(user: "u5")).list.items, "\(seen): the cached list")
            ownItemsServed[seen] = served.filter(history.contains).count
        }
        XCTAssertEqual(ownItemsServed[.exclude], 0, "a seen item is never served under exclude")
        XCTAssertEqual(ownItemsServed[.include], history.count, "all of a user's items are among 100 of a catalogue of 100")
    }

    /// A port another server holds: the error names the address and the fix, not a NIO call.
    func testABusyPortNamesHostAndPort() async throws {
        let f = try WalkFixture()
        defer { f.remove() }
        let first = RecommendationServer(recommender: try Recommender(databaseURL: f.url, cachePath: f.cachePath))
        let bound = PortBox()
        let task = Task { try await first.run(port: 0) { port in bound.set(port) } }
        defer { task.cancel() }
        let port = try await bound.wait()
        let second = RecommendationServer(recommender: try Recommender(databaseURL: f.url, cachePath: f.cachePath))
        do {
            try await second.run(port: port)
            XCTFail("a second server listened on a busy port")
        } catch {
            XCTAssertEqual("\(error)", "cannot listen on 127.0.0.1:\(port): Address already in use; another process listens there: stop it or choose another --port")
        }
    }

    func testEndpointsAndErrors() async throws {
        let f = try WalkFixture()
        defer { f.remove() }
        _ = try f.score(f.sasrec)
        let server = RecommendationServer(recommender: try Recommender(databaseURL: f.url, cachePath: f.cachePath))
        let bound = PortBox()
        let task = Task { try await server.run(port: 0) { port in bound.set(port) } }
        defer { task.cancel() }
        let port = try await bound.wait()

        func get(_ path: String) async throws -> (Int, [String: Any], String) {
            let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            let text = String(decoding: data, as: UTF8.self)
            return ((response as! HTTPURLResponse).statusCode, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:], text)
        }

        var (status, body, _) = try await get("/v1/users/u5/recommendations?k=7")
        XCTAssertEqual(status, 200)
        XCTAssertEqual((body["items"] as? [[String: Any]])?.count, 7)
        XCTAssertNotNil((body["items"] as? [[String: Any]])?.first?["score"] as? Double)
        XCTAssertEqual(body["source"] as? String, "cache")
        XCTAssertEqual(body["model_id"] as? String, f.sasrec.id)
        XCTAssertNotNil(body["computed_at"] as? String)

        (status, body, _) = try await get("/v1/users/u5/recommendations")
        XCTAssertEqual((body["items"] as? [[String: Any]])?.count, 10, "k defaults to 10")

        (status, body, _) = try await get("/v1/users/stranger/recommendations?k=2")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(body["source"] as? String, "fallback")

        for bad in ["abc", "0", "-3", "100000"] {
            (status, body, _) = try await get("/v1/users/u5/recommendations?k=\(bad)")
            XCTAssertEqual(status, 400, "k=\(bad)")
            XCTAssertTrue((body["error"] as? String)?.contains("k must be") ?? false, "k=\(bad): \(body)")
        }

        (status, body, _) = try await get("/healthz")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(body["status"] as? String, "ok")

        let (metricsStatus, _, metrics) = try await get("/metrics")
        XCTAssertEqual(metricsStatus, 200)
        XCTAssertTrue(metrics.contains(#"pleat_http_requests_total{route="recommendations",status="200"} 3"#), metrics)
        XCTAssertTrue(metrics.contains(#"pleat_http_requests_total{route="recommendations",status="400"} 4"#), metrics)
        XCTAssertTrue(metrics.contains(#"pleat_recommendations_total{source="cache"} 2"#), metrics)
        XCTAssertTrue(metrics.contains("pleat_cache_hit_ratio 1.0"), metrics)
        XCTAssertTrue(metrics.contains(#"pleat_http_request_duration_seconds_bucket{le="+Inf"} 7"#), metrics)

        // The server keeps answering from the cache while `pleat score` writes a new model; once it is
        // switched in, answers come from the new model.
        let done = PortBox()
        let scoring = Task.detached { defer { done.set(1) }; return try f.score(f.hstu) }
        var models: Set<String> = [], requests = 0
        while true {
            let finished = done.value != nil
            (status, body, _) = try await get("/v1/users/u\(requests % 200)/recommendations?k=5")
            requests += 1
            XCTAssertEqual(status, 200)
            XCTAssertEqual(body["source"] as? String, "cache")
            models.insert(body["model_id"] as? String ?? "?")
            if finished { break }
        }
        _ = try await scoring.value
        (status, body, _) = try await get("/v1/users/u1/recommendations?k=5")
        XCTAssertEqual(body["model_id"] as? String, f.hstu.id)
        XCTAssertTrue(models.isSubset(of: [f.sasrec.id, f.hstu.id]), "\(models)")
    }

    /// `pleat serve --shard 1/3` answers its own users and sends others to their shard with 421.
    func testShardedServerAnswersOnlyItsOwnUsers() async throws {
        let f = try WalkFixture()
        defer { f.remove() }
        let shard = try Shard(index: 1, count: 3)
        _ = try f.score(f.sasrec, shard: shard)
        let server = RecommendationServer(recommender: try Recommender(databaseURL: f.url, cachePath: f.cachePath), shard: shard)
        let bound = PortBox()
        let task = Task { try await server.run(port: 0) { port in bound.set(port) } }
        defer { task.cancel() }
        let port = try await bound.wait()
        var answered = 0, sent = 0
        for user in (0..<30).map({ "u\($0)" }) + ["stranger", "José"] {
            let url = URL(string: "http://127.0.0.1:\(port)/v1/users/\(user.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!)/recommendations?k=3")!
            let (data, response) = try await URLSession.shared.data(from: url)
            let http = response as! HTTPURLResponse
            let body = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            let owner = shard.owner(of: user)
            if owner == shard {
                XCTAssertEqual(http.statusCode, 200, user)
                XCTAssertEqual((body["items"] as? [[String: Any]])?.count, 3, user)
                if user.hasPrefix("u") { XCTAssertEqual(body["source"] as? String, "cache", user) }
                answered += 1
            } else {
                XCTAssertEqual(http.statusCode, 421, user)
                XCTAssertEqual(http.value(forHTTPHeaderField: "Pleat-Shard"), owner.description, user)
                XCTAssertEqual(body["shard"] as? String, owner.description, user)
                XCTAssertTrue((body["error"] as? String)?.contains("this server answers shard 1/3") ?? false, "\(body)")
                sent += 1
            }
        }
        XCTAssertGreaterThan(answered, 3)
        XCTAssertGreaterThan(sent, 10)
    }
}

/// A value handed from another task to the test (the port the server bound; a done flag).
final class PortBox: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int?
    var value: Int? { lock.withLock { port } }
    func set(_ value: Int) { lock.withLock { port = value } }
    func wait() async throws -> Int {
        for _ in 0..<500 {
            if let port = lock.withLock({ port }) { return port }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        throw URLError(.timedOut)
    }
}
