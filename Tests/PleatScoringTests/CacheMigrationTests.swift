import Foundation
import XCTest
import PleatStorage
import PleatTestSupport

/// A cache written before lists were kept per event keeps serving after the migration: its lists are
/// the model's own question (event "").
final class CacheMigrationTests: XCTestCase {
    func testListsOfAnOlderCacheAreTheModelsOwnQuestion() throws {
        let dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sqlite = TestDatabase.migrationsDirectory.appendingPathComponent("sqlite")
        let path = dir.appendingPathComponent("cache.sqlite").path
        let list = RankedList(user: "u1", items: ["a", "b"], scores: [2, 1], historyUntil: 100, computedAt: 5)
        do {
            // The first schema, with a list and the pointer as the cache of that version wrote them.
            let old = try SQLiteConnection(path: path)
            _ = try Migrator(migrations: Array(try Migration.load(from: sqlite).prefix(1))).migrate(old)
            try old.execute("""
                INSERT INTO recommendation_sets (model_id, top_k, include_seen, started_at) VALUES ('m1', 2, 0, 1);
                INSERT INTO recommendations (model_id, user_id, items, scores, history_until, computed_at)
                    VALUES ('m1', 'u1', '["a","b"]', X'000000400000803f', 100, 5);
                INSERT INTO active_model (id, model_id, switched_at) VALUES (1, 'm1', 1);
                """)
        }
        let cache = try RecommendationCache(path: path, migrations: sqlite)
        XCTAssertEqual(try cache.lookup(user: "u1")?.list, list)
        XCTAssertNil(try cache.lookup(user: "u1", event: "buy"))
        var buy = list
        (buy.event, buy.items) = ("buy", ["c", "a"])
        try cache.write([buy], modelId: "m1")
        XCTAssertEqual(try cache.lookup(user: "u1", event: "buy")?.list, buy)
        XCTAssertEqual(try cache.lookup(user: "u1")?.list, list, "one list per question")
        try cache.activate(modelId: "m1")
        XCTAssertEqual(try cache.activeSet()?.modelId, "m1")
    }
}
