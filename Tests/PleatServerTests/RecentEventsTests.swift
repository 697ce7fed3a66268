import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import PleatCore
import PleatScoring
import PleatServer
import PleatStorage
import PleatTestSupport

/// `POST /v1/recommendations`: a session's events that no ingest has stored yet, scored as if they had
/// been ingested first.
final class RecentEventsTests: XCTestCase {
    struct Client {
        let port: Int

        func post(_ body: Any) async throws -> (status: Int, body: [String: Any]) {
            let data = try (body as? Data) ?? JSONSerialization.data(withJSONObject: body)
            return try await send(data)
        }

        func send(_ data: Data) async throws -> (status: Int, body: [String: Any]) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/recommendations")!)
            (request.httpMethod, request.httpBody) = ("POST", data)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            let (reply, response) = try await URLSession.shared.data(for: request)
            return ((response as! HTTPURLResponse).statusCode, (try? JSONSerialization.jsonObject(with: reply)) as? [String: Any] ?? [:])
        }

        func get(_ user: String) async throws -> [String: Any] {
            let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/v1/users/\(user)/recommendations?k=10")!)
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
    }

    /// A walk fixture with SASRec's lists active and a server over it.
    static func scoredServer() async throws -> (WalkFixture, Client, Task<Void, Error>, Recommender) {
        let f = try WalkFixture()
        _ = try f.score(f.sasrec)
        let recommender = try Recommender(databaseURL: f.url, cachePath: f.cachePath)
        let (port, task) = try await ServerResilienceTests.start(RecommendationServer(recommender: recommender))
        return (f, Client(port: port), task, recommender)
    }

    static func items(_ body: [String: Any]) -> [String] { (body["items"] as? [[String: Any]] ?? []).compactMap { $0["item"] as? String } }
    static func scores(_ body: [String: Any]) -> [Double] { (body["items"] as? [[String: Any]] ?? []).compactMap { $0["score"] as? Double } }

    /// The list with recent events equals the list after ingesting the same events, for a known user
    /// (events after, between and equal to stored ones) and for a user the database has never seen;
    /// and it differs from the list without them.
    func testRecentEventsGiveTheListTheirIngestWouldGive() async throws {
        let (f, client, task, recommender) = try await Self.scoredServer()
        defer { task.cancel(); f.remove() }

        let storedU5 = try f.db.query("""
            SELECT i.external_id AS item, extract(epoch FROM x.occurred_at)::bigint AS second FROM interactions x
            JOIN items i ON i.id = x.item_id JOIN users u ON u.id = x.user_id WHERE u.external_id = 'u5' ORDER BY x.occurred_at DESC LIMIT 1
            """).rows[0]
        let (lastItem, lastSecond) = (try storedU5.string("item"), Int64(try storedU5.int("second")))
        // Two new events, one at the time of the stored newest (it sorts by item id among them), and one
        // identical to a stored event (counted once).
        let recent: [[String: Any]] = [
            ["item": "i40", "time": lastSecond + 30], ["item": "i41", "time": lastSecond + 40, "event": "interaction"],
            ["item": "i3", "time": lastSecond], ["item": lastItem, "time": lastSecond],
        ]
        let before = try await client.get("u5")
        var (status, body) = try await client.post(["user": "u5", "k": 10, "events": recent])
        XCTAssertEqual(status, 200, "\(body)")
        XCTAssertEqual(body["source"] as? String, "live")
        XCTAssertEqual(body["recent_events"] as? Int, 3, "the stored event counts once")
        XCTAssertNotEqual(Self.items(body), Self.items(before), "the session's events change the list")
        let after = try await client.get("u5")
        XCTAssertEqual(Self.items(after), Self.items(before), "a session's list is not cached")

        let (newcomer, _) = try await client.post(["user": "newcomer", "events": [["item": "i7", "time": 5_000], ["item": "i8", "time": 5_010]]])
        XCTAssertEqual(newcomer, 200)
        let newcomerBody = try await client.post(["user": "newcomer", "events": [["item": "i7", "time": 5_000], ["item": "i8", "time": 5_010]]]).body
        XCTAssertEqual(newcomerBody["source"] as? String, "live", "scored from its recent events alone, not the fallback")

        try f.ingest("user_id,item_id,timestamp\n" + recent.map { "u5,\($0["item"]!),\($0["time"]!)" }.joined(separator: "\n")
                     + "\nnewcomer,i7,5000\nnewcomer,i8,5010\n", name: "session.csv")
        XCTAssertTrue(recommender.waitUntilWatched(batch: try IngestBatches.newestCommitted(f.db)), "the server heard of the ingest")
        let ingested = try await client.get("u5")
        XCTAssertEqual(ingested["source"] as? String, "live", "the cached list is stale after the ingest")
        XCTAssertEqual(Self.items(ingested), Self.items(body), "the same list as after ingesting the events")
        XCTAssertEqual(Self.scores(ingested), Self.scores(body))
        let newcomerIngested = try await client.get("newcomer")
        XCTAssertEqual(Self.items(newcomerIngested), Self.items(newcomerBody))
        XCTAssertEqual(Self.scores(newcomerIngested), Self.scores(newcomerBody))

        // Once stored, sending them again changes nothing.
        (status, body) = try await client.post(["user": "u5", "k": 10, "events": recent])
        XCTAssertEqual(body["recent_events"] as? Int, 0)
        XCTAssertEqual(Self.items(body), Self.items(ingested))
    }

    /// Bad requests get 400 with the field and the fault; nothing is scored.
    func testBadRequestsNameTheProblem() async throws {
        let (f, client, task, _) = try await Self.scoredServer()
        defer { task.cancel(); f.remove() }

        let many = (0..<(RecentEvent.maximumPerRequest + 1)).map { ["item": "i\($0 % 100)"] }
        let cases: [(Any, String)] = [
            (["events": [["item": "i1"]]], "user is missing"),
            (["user": "u5", "events": [["time": 10]]], "events[0].item is missing"),
            (["user": "u5", "events": [["item": "i1"], ["item": ""]]], "events[1]: the item id is empty"),
            (["user": "u5", "events": [["item": "i1", "event": "buy"]]], "events[0]: no event type 'buy' in this database (it has: interaction)"),
            (["user": "u5", "events": [["item": "i1", "time": "yesterday"]]], "events[0].time must be an integer"),
            (["user": "u5", "events": [["item": "i1", "time": 400_000_000_000]]], "events[0]: time 400000000000 is outside"),
            (["user": "u5", "events": ["i1"]], "events[0] must be an object"),
            (["user": "u5", "events": many], "257 events: at most 256 per request"),
            (["user": "u\u{1}5", "events": []], "the user id holds the control character U+0001"),
            (["user": "u5", "k": 0], "k must be an integer from 1 to 1000"),
            (Data("{\"user\": ".utf8), "the body is not valid JSON"),
        ]
        for (request, expected) in cases {
            let (status, body) = try await client.post(request)
            XCTAssertEqual(status, 400, "\(expected): \(body)")
            let message = body["error"] as? String ?? ""
            XCTAssertTrue(message.hasPrefix(expected), "expected '\(expected)…', got '\(message)'")
        }
        let (status, body) = try await client.post(Data(repeating: 0x20, count: RecommendationServer.maximumBodyBytes + 1))
        XCTAssertEqual(status, 413, "\(body)")
    }
}
