import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import PleatCore
import PleatHistories
import PleatMetrics
import PleatModel
import PleatScoring
import PleatServer
import PleatStorage
import PleatTestSupport
import PleatTraining

/// Lists per behaviour asked for (`pleat score --events buy,view`, `pleat recommend --event`,
/// `?event=`): each is the model's answer to that question, under "seen" meaning done with that
/// behaviour, the same from the cache, live and over HTTP.
final class EventListsTests: XCTestCase {
    func testListsPerEventAreScoredCachedAndServedAsAsked() async throws {
        let url = try TestDatabase.fresh()
        let db = try PostgresConnection(url: url)
        let dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try SyntheticFunnel.ingest(into: db, directory: dir, users: 120, items: 60, medianEvents: 20, seed: 4)

        var config = TrainingConfig(model: .sasrec)
        (config.epochs, config.patience, config.batchSize, config.maxLength, config.seed) = (2, 2, 32, 16, 1)
        (config.sasrec.encoder.dimension, config.sasrec.encoder.blocks) = (16, 1)
        (config.targetEvents, config.seen, config.behaviour.input) = (["buy"], .exclude, .interleaved)
        var job = TrainingJob(config: config, artifacts: dir.appendingPathComponent("models"))
        (job.showProgress, job.log) = (false, { _ in })
        let record = try job.run(db: db).record

        let cachePath = dir.appendingPathComponent("cache.sqlite").path
        let model = try ScoringModel.load(record, db: db, batchSize: 16)
        var scorer = BatchScorer()
        (scorer.topK, scorer.showProgress, scorer.events) = (20, false, ["buy", "view"])
        let report = try scorer.run(model: model, db: db, cache: try RecommendationCache(path: cachePath))
        XCTAssertEqual(report.events, ["buy", "view"])
        XCTAssertEqual(report.users, 120)
        var unknown = scorer
        unknown.events = ["nope"]
        XCTAssertThrowsError(try unknown.run(model: model, db: db, cache: try RecommendationCache(path: cachePath))) { error in
            XCTAssertTrue("\(error)".contains("no event type 'nope'") && "\(error)".contains("buy, cart, view"), "\(error)")
        }

        // Each cached list is the model's answer to its question, and "seen" is done with that behaviour.
        let cache = try RecommendationCache(path: cachePath)
        let histories = try HistoryLoader.load(from: db)
        let (userIds, itemIds) = (try UserTable(db).externalIds(), try ItemTable(db).externalIds())
        let types = try EventTypeTable(db).ids()
        let (buy, view) = (try XCTUnwrap(types["buy"]), try XCTUnwrap(types["view"]))
        var (differ, listingViewed) = (0, 0)
        for slot in 0..<histories.userCount {
            let range = histories.range(slot)
            let user = try XCTUnwrap(userIds[histories.userIds[slot]])
            let h = model.modelHistory(items: histories.items[range], times: histories.times[range], behaviours: histories.behaviours[range],
                                       values: histories.values[range])
            let lists = try ["buy", "view"].map { event in try XCTUnwrap(try cache.lookup(user: user, event: event), "\(user) \(event)").list }
            XCTAssertNil(try cache.lookup(user: user), "no list of the model's own question was asked for")
            for (event, list) in zip(["buy", "view"], lists) {
                XCTAssertEqual(list.event, event)
                XCTAssertEqual(list.items, model.externalIds(model.topK([h], k: 20, seen: .exclude, event: event)[0].items), "\(user) \(event)")
            }
            let done = { (behaviour: Int16) in
                Set(range.filter { histories.behaviours[$0] == behaviour }.compactMap { itemIds[histories.items[$0]] })
            }
            let (bought, viewed) = (done(buy), done(view))
            XCTAssertTrue(bought.isDisjoint(with: lists[0].items), "\(user): a bought item in the purchase list")
            XCTAssertTrue(viewed.isDisjoint(with: lists[1].items), "\(user): a viewed item in the view list")
            if !viewed.subtracting(bought).isDisjoint(with: lists[0].items) { listingViewed += 1 }
            if lists[0].items != lists[1].items { differ += 1 }
        }
        XCTAssertGreaterThan(differ, 100, "the two questions get the same lists")
        XCTAssertGreaterThan(listingViewed, 10, "viewed items stay candidates for purchase")

        // Live scoring answers the same question, and over HTTP a request names it.
        let recommender = try Recommender(databaseURL: url, cachePath: cachePath)
        let user = try XCTUnwrap(userIds[histories.userIds[0]])
        let cached = try XCTUnwrap(try cache.lookup(user: user, event: "view")).list
        try cache.remove(user: user)
        let live = try recommender.recommend(user: user, k: 20, event: "view")
        XCTAssertEqual(live.source, .live)
        XCTAssertEqual(live.event, "view")
        XCTAssertEqual(live.items.map(\.item), cached.items, "live and batch answer the same question alike")

        let server = RecommendationServer(recommender: recommender)
        let bound = PortBox()
        let task = Task { try await server.run(port: 0) { port in bound.set(port) } }
        defer { task.cancel() }
        let port = try await bound.wait()
        func get(_ query: String) async throws -> (Int, [String: Any]) {
            let address = "http://127.0.0.1:\(port)/v1/users/\(user)/recommendations?\(query)"
            let (data, response) = try await URLSession.shared.data(from: URL(string: address)!)
            return ((response as! HTTPURLResponse).statusCode, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
        }
        var (status, body) = try await get("k=5&event=buy")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(body["event"] as? String, "buy")
        let served = try XCTUnwrap(body["items"] as? [[String: Any]]).compactMap { $0["item"] as? String }
        XCTAssertEqual(served, Array(try XCTUnwrap(try cache.lookup(user: user, event: "buy")).list.items.prefix(5)))
        (status, body) = try await get("k=5&event=nope")
        XCTAssertEqual(status, 400)
        XCTAssertTrue((body["error"] as? String ?? "").contains("no event type 'nope'"), "\(body)")
        (status, body) = try await get("k=5&event=")
        XCTAssertEqual(status, 400)
    }
}
