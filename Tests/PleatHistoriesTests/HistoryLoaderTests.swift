import Foundation
import PleatCore
import XCTest
import PleatIngest
import PleatStorage
import PleatTestSupport
import PleatHistories

final class HistoryLoaderTests: XCTestCase {
    func testLoadsEveryHistoryInTimeOrderWithTheBatchSnapshot() throws {
        let db = try PostgresConnection(url: try TestDatabase.fresh())
        let dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("log.csv").path
        try "user,item,time,event,value\nb,x,300,view,\na,y,200,buy,2.5\na,x,100,view,\nb,z,100,cart,1\na,z,2024-01-01T00:00:00Z,view,-4\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let report = try Ingestor(db: db).ingest(file: file, options: IngestOptions(format: .csv))
        let histories = try HistoryLoader.load(from: db)
        XCTAssertEqual(histories.userCount, 2)
        XCTAssertEqual(histories.eventCount, 5)
        XCTAssertEqual(histories.snapshotBatch, report.batchId)
        let names = try db.query("SELECT id, external_id FROM items")
        var itemName: [Int32: String] = [:]
        for r in 0..<names.rowCount { itemName[Int32(names.int(r, 0)!)] = names.string(r, 1)! }
        let users = try db.query("SELECT id FROM users ORDER BY external_id")  // a, b
        let a = histories.userIds.firstIndex(of: Int32(users.int(0, 0)!))!
        XCTAssertEqual(histories.items[histories.range(a)].map { itemName[$0]! }, ["x", "y", "z"])
        XCTAssertEqual(Array(histories.times[histories.range(a)]), [100, 200, 1_704_067_200])
        // Each event's behaviour and value come along: a's view, buy, view; values none, 2.5, -4.
        let types = try db.query("SELECT id, name FROM event_types")
        var typeName: [Int16: String] = [:]
        for r in 0..<types.rowCount { typeName[Int16(types.int(r, 0)!)] = types.string(r, 1)! }
        XCTAssertEqual(histories.behaviours[histories.range(a)].map { typeName[$0]! }, ["view", "buy", "view"])
        XCTAssertEqual(histories.values[histories.range(a)].map { $0.isNaN ? nil : $0 }, [nil, 2.5, -4])
        let b = 1 - a
        XCTAssertEqual(histories.behaviours[histories.range(b)].map { typeName[$0]! }, ["cart", "view"])
        XCTAssertEqual(histories.values[histories.range(b)].map { $0.isNaN ? nil : $0 }, [1, nil])
    }

    func testSequenceSplitAndVocabulary() {
        var h = InteractionHistories()
        for (user, items) in [(Int32(1), [Int32](arrayLiteral: 10, 11, 12, 13)), (2, [11, 14]), (3, [10, 12, 99])] {
            for (t, item) in items.enumerated() { h.append(user: user, item: item, time: Int64(t)) }
        }
        h.finish()
        // min_count 2 over all events keeps 10, 11 and 12; 13, 14 and 99 leave before the split.
        let split = SequenceSplit(h, minCount: 2)
        XCTAssertEqual(split.vocabulary.databaseIds, [0, 10, 11, 12])
        XCTAssertEqual(split.sequences[0], [1, 2, 3])
        XCTAssertEqual(split.test(0)!.target, 3, "the last remaining event, item 12")
        XCTAssertEqual(split.validation(0)!.target, 2)
        XCTAssertEqual(Array(split.trainSequence(1)), [2], "short histories only train")
        XCTAssertNil(split.test(1))
        var long = InteractionHistories()
        for (t, item) in [Int32](arrayLiteral: 5, 6, 7, 8, 5).enumerated() { long.append(user: 9, item: item, time: Int64(100 + t)) }
        long.finish()
        let s = SequenceSplit(long)
        XCTAssertEqual(Array(s.trainSequence(0)), [1, 2, 3])
        XCTAssertEqual(s.vocabulary.databaseIds, [0, 5, 6, 7, 8])
        XCTAssertEqual(s.validation(0)!.target, 4)
        XCTAssertEqual(Array(s.validation(0)!.history), [1, 2, 3])
        XCTAssertEqual(s.test(0)!.target, 1, "the last event, a repeat of item 5")
        XCTAssertEqual(Array(s.test(0)!.history), [1, 2, 3, 4])
        XCTAssertEqual(s.test(0)!.targetTime, 104)
        XCTAssertEqual(Array(s.pastSequence(0)), [1, 2, 3, 4], "a refit trains on the validation event too")
        XCTAssertEqual(Array(s.pastTimes(0)), [100, 101, 102, 103])
        XCTAssertEqual(Array(split.pastSequence(1)), [2], "without a test target the past is the training events")
    }

    /// Global time split: before the cutoff is the past (train + validation); the first later event is
    /// the test target; events after it are unused; users without a past or a future lose that example.
    func testTimeSplitAtACutoff() {
        var h = InteractionHistories()
        let events: [(Int32, [(Int32, Int64)])] = [
            (1, [(10, 1), (11, 2), (12, 3), (13, 10), (14, 11)]),  // past 10, 11, 12; test 13; 14 unused
            (2, [(10, 1), (11, 12)]),                              // one past event: test only, no validation
            (3, [(10, 1), (12, 2), (11, 3)]),                      // no future: train and validation only
            (4, [(12, 20)]),                                       // no past: nothing
        ]
        for (user, list) in events { for (item, time) in list { h.append(user: user, item: item, time: time) } }
        h.finish()
        let s = SequenceSplit(h, cutoff: 10)
        XCTAssertEqual(s.test(0)?.target, s.vocabulary.modelIndex(of: 13))
        XCTAssertEqual(s.test(0)?.history.count, 3)
        XCTAssertEqual(s.validation(0)?.target, s.vocabulary.modelIndex(of: 12))
        XCTAssertEqual(Array(s.trainSequence(0)), [10, 11].map { s.vocabulary.modelIndex(of: $0)! })
        XCTAssertEqual(s.test(1)?.target, s.vocabulary.modelIndex(of: 11))
        XCTAssertNil(s.validation(1))
        XCTAssertEqual(s.trainSequence(1).count, 1)
        XCTAssertNil(s.test(2))
        XCTAssertEqual(s.validation(2)?.target, s.vocabulary.modelIndex(of: 11))
        XCTAssertNil(s.test(3))
        XCTAssertNil(s.validation(3))
        XCTAssertEqual(s.trainSequence(3).count, 0)
        XCTAssertTrue(s.testExamples.allSatisfy { $0.historyTimes.allSatisfy { $0 < 10 } && $0.targetTime >= 10 }, "no future leaks")
    }

    func testMovieLens100KLoadsInFullQuickly() throws {
        let base = TestDatabase.sharedDirectory.appendingPathComponent("data/ml-100k")
        guard FileManager.default.fileExists(atPath: base.appendingPathComponent("ml-100k.inter").path) else {
            throw XCTSkip("../shared/data/ml-100k is not beside this checkout")
        }
        let db = try PostgresConnection(url: try TestDatabase.fresh())
        _ = try Ingestor(db: db).ingest(file: base.appendingPathComponent("ml-100k.inter").path, options: IngestOptions(format: .recbole))
        let start = Date()
        let histories = try HistoryLoader.load(from: db)
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(histories.eventCount, 100_000)
        XCTAssertEqual(histories.userCount, 943)
        XCTAssertLessThan(seconds, 5, "loaded in \(seconds) s")
        let split = SequenceSplit(histories)
        XCTAssertEqual((0..<943).compactMap { split.test($0) }.count, 943, "every MovieLens user has at least 20 ratings")
        for u in 0..<histories.userCount {
            let times = histories.times[histories.range(u)]
            XCTAssertEqual(Array(times), times.sorted(), "user slot \(u) in time order")
        }
    }

    /// Partitions read by 1, 3 or 16 connections give the same arrays; the shards of a split hold every
    /// user exactly once, each user in the shard the shard function names, with the whole history; a
    /// batch limit applies within a shard too.
    func testParallelReadersAndShardsGiveTheSameHistories() throws {
        let (db, first) = try fourHundredUsers()

        let one = try HistoryLoader.load(from: db, readers: 1)
        XCTAssertEqual(one.userCount, 401)
        XCTAssertEqual(one.userIds, one.userIds.sorted(), "users in id order")
        for readers in [3, 16] {
            let many = try HistoryLoader.load(from: db, readers: readers)
            XCTAssertEqual(many.userIds, one.userIds, "\(readers) readers")
            XCTAssertEqual(many.offsets, one.offsets)
            XCTAssertEqual(many.items, one.items)
            XCTAssertEqual(many.times, one.times)
            XCTAssertEqual(many.behaviours, one.behaviours)
            XCTAssertEqual(many.values.map(\.bitPattern), one.values.map(\.bitPattern))
            XCTAssertEqual(many.snapshotBatch, one.snapshotBatch)
        }

        let names = try db.query("SELECT id, external_id FROM users")
        let external = Dictionary(uniqueKeysWithValues: (0..<names.rowCount).map { (Int32(names.int($0, 0)!), names.string($0, 1)!) })
        func events(_ h: InteractionHistories) -> [Int32: [Int32]] {
            Dictionary(uniqueKeysWithValues: (0..<h.userCount).map { (h.userIds[$0], Array(h.items[h.range($0)])) })
        }
        let whole = events(one)
        var seen: [Int32: Int] = [:]
        for index in 0..<3 {
            let shard = try Shard(index: index, count: 3)
            let part = try HistoryLoader.load(from: db, shard: shard, readers: 2)
            XCTAssertGreaterThan(part.userCount, 80, "shard \(shard) has about a third of 401 users")
            for (user, items) in events(part) {
                seen[user, default: 0] += 1
                XCTAssertTrue(shard.owns(external[user]!), "\(external[user]!) is not in shard \(shard)")
                XCTAssertEqual(items, whole[user], "the whole history of \(external[user]!)")
            }
        }
        XCTAssertEqual(seen.count, 401)
        XCTAssertTrue(seen.values.allSatisfy { $0 == 1 }, "every user in exactly one shard")

        let before = try HistoryLoader.load(from: db, upToBatch: first.batchId, readers: 3)
        XCTAssertEqual(before.userCount, 400, "the late user came in the second batch")
        XCTAssertEqual(before.eventCount, one.eventCount - 2)
        XCTAssertFalse(before.times.contains(9999), "the second batch's events are left out")
    }

    /// 401 users in two ingest batches (the second adds an event to user 1 and a new user); returns the
    /// database and the first batch's report.
    private func fourHundredUsers() throws -> (PostgresConnection, IngestReport) {
        let db = try PostgresConnection(url: try TestDatabase.fresh())
        let dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = RandomSource(seed: 11)
        var csv = "user,item,time,event,value\n"
        for user in 0..<400 {
            for t in 0..<(1 + rng.below(12)) {
                let value = rng.below(3) == 0 ? "" : String(rng.below(50))
                csv += "user \(user),i\(rng.below(60)),\(500 + t * 3 + rng.below(3)),\(["view", "cart", "buy"][rng.below(3)]),\(value)\n"
            }
        }
        let file = dir.appendingPathComponent("log.csv").path
        try csv.write(toFile: file, atomically: true, encoding: .utf8)
        let first = try Ingestor(db: db).ingest(file: file, options: IngestOptions(format: .csv))
        try "user,item,time\nuser 1,i1,9999\nlate user,i2,10\n".write(toFile: file + "2", atomically: true, encoding: .utf8)
        _ = try Ingestor(db: db).ingest(file: file + "2", options: IngestOptions(format: .csv))
        return (db, first)
    }

    /// Streamed chunks (batch scoring's read) are whole users, `chunkUsers` to a chunk, and together the
    /// loaded histories array for array, for the whole table and for a shard. A consumer that fails stops
    /// the chunks, its error comes back, and the connection is usable afterwards.
    func testStreamedChunksAreTheLoadedHistories() throws {
        let (db, _) = try fourHundredUsers()
        func streamed(chunkUsers: Int, shard: Shard = .all) throws -> (InteractionHistories, [Int]) {
            var joined = InteractionHistories(), sizes: [Int] = []
            try HistoryLoader.stream(from: db, shard: shard, chunkUsers: chunkUsers) { chunk in
                sizes.append(chunk.userCount)
                for slot in 0..<chunk.userCount {
                    for e in chunk.range(slot) {
                        joined.append(user: chunk.userIds[slot], item: chunk.items[e], time: chunk.times[e], behaviour: chunk.behaviours[e],
                                      value: chunk.values[e])
                    }
                }
            }
            joined.finish()
            return (joined, sizes)
        }
        let whole = try HistoryLoader.load(from: db, readers: 1)
        for chunkUsers in [1, 7, 5_000] {
            let (joined, sizes) = try streamed(chunkUsers: chunkUsers)
            XCTAssertEqual(joined.userIds, whole.userIds, "chunks of \(chunkUsers)")
            XCTAssertEqual(joined.offsets, whole.offsets)
            XCTAssertEqual(joined.items, whole.items)
            XCTAssertEqual(joined.times, whole.times)
            XCTAssertEqual(joined.behaviours, whole.behaviours)
            XCTAssertEqual(joined.values.map(\.bitPattern), whole.values.map(\.bitPattern))
            XCTAssertEqual(sizes.dropLast(), Array(repeating: chunkUsers, count: sizes.count - 1), "full chunks but the last")
            XCTAssertEqual(sizes.count, (401 + chunkUsers - 1) / chunkUsers)
        }
        let shard = try Shard(index: 1, count: 3)
        let part = try HistoryLoader.load(from: db, shard: shard, readers: 1)
        let (joinedPart, _) = try streamed(chunkUsers: 10, shard: shard)
        XCTAssertEqual(joinedPart.userIds, part.userIds)
        XCTAssertEqual(joinedPart.items, part.items)

        struct Stop: Error {}
        var calls = 0
        XCTAssertThrowsError(try HistoryLoader.stream(from: db, chunkUsers: 50) { _ in
            calls += 1
            if calls == 2 { throw Stop() }
        }) { XCTAssertTrue($0 is Stop, "\($0)") }
        XCTAssertEqual(calls, 2, "no chunk after the failing one")
        XCTAssertEqual(try db.query("SELECT count(*) FROM users").int(0, 0), 401, "the connection still answers")
        XCTAssertEqual(try streamed(chunkUsers: 100).0.items, whole.items, "and streams again")
    }
}
