import Foundation
import XCTest
import PleatMetrics
import PleatStorage
import PleatTestSupport
@testable import PleatScoring

/// `pleat score`'s background cache writes: every submitted list lands, in order, before `finish`
/// returns; a write that fails is reported, and nothing submitted after it is written.
final class CacheWriteQueueTests: XCTestCase {
    private func lists(_ range: Range<Int>) -> [RankedList] {
        range.map { RankedList(user: "u\($0)", items: ["a", "b"], scores: [2, 1], historyUntil: Int64($0), computedAt: 1) }
    }

    private func rows(_ path: String) throws -> Int {
        let statement = try SQLiteConnection(path: path).prepare("SELECT count(*) FROM recommendations WHERE model_id = 'm'")
        _ = try statement.step()
        return Int(statement.int(0))
    }

    func testEverySubmittedListIsWrittenBeforeFinishReturns() throws {
        let dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("cache.sqlite").path
        let cache = try RecommendationCache(path: path, migrations: TestDatabase.migrationsDirectory.appendingPathComponent("sqlite"))
        try cache.beginSet(modelId: "m", topK: 2, seen: .exclude)
        let writes = CacheWriteQueue(cache: cache, modelId: "m")
        for start in stride(from: 0, to: 10_000, by: 1_000) { try writes.submit(lists(start..<(start + 1_000))) }
        XCTAssertEqual(try writes.finish(), 10_000)
        XCTAssertEqual(try rows(path), 10_000)
    }

    func testAFailedWriteIsReportedAndStopsTheWrites() throws {
        let dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("cache.sqlite").path
        let migrations = TestDatabase.migrationsDirectory.appendingPathComponent("sqlite")
        let cache = try RecommendationCache(path: path, migrations: migrations, busyTimeoutMilliseconds: 20)
        try cache.beginSet(modelId: "m", topK: 2, seen: .exclude)
        let writes = CacheWriteQueue(cache: cache, modelId: "m")
        try writes.submit(lists(0..<100))
        writes.drain()
        // Another writer holds the database: the next write times out.
        let other = try SQLiteConnection(path: path)
        try other.execute("BEGIN IMMEDIATE")
        try writes.submit(lists(100..<200))
        writes.drain()
        try other.execute("COMMIT")
        XCTAssertThrowsError(try writes.submit(lists(200..<300)), "the failure surfaces at the next submit")
        XCTAssertThrowsError(try writes.finish())
        XCTAssertEqual(try rows(path), 100, "only the lists before the failure were written")
    }
}
