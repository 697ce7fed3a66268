import Foundation
import XCTest
import PleatMetrics
import PleatCore
import PleatScoring
import PleatStorage
import PleatTestSupport
import PleatTraining
import PleatHistories
import PleatModel

/// The scoring stage against a real PostgreSQL and a real SQLite file.
final class ScoringTests: XCTestCase {
    /// Every user gets a list of top_k unseen items in score order, equal to what the model scores
    /// directly; `--seen include` lets seen items in; `--users changed` rescores nobody when nothing changed.
    func testBatchScoringFillsTheCache() throws {
        let f = try WalkFixture()
        defer { f.remove() }
        let report = try f.score(f.sasrec)
        XCTAssertEqual(report.users, 200)
        XCTAssertGreaterThan(report.usersPerS, 0)
        let cache = try f.cache()
        XCTAssertEqual(try cache.activeSet()?.modelId, f.sasrec.id)
        let histories = try HistoryLoader.load(from: f.db)
        let items = try f.db.query("SELECT id, external_id FROM items")
        let external = Dictionary(uniqueKeysWithValues: (0..<items.rowCount).map { (Int32(items.int($0, 0)!), items.string($0, 1)!) })
        let model = try ScoringModel.load(f.sasrec, db: f.db, batchSize: 1)
        var seenInLists = 0
        for slot in [0, 17, 199] {
            let range = histories.range(slot)
            let user = try XCTUnwrap(try f.db.query("SELECT external_id FROM users WHERE id = $1", [.int(histories.userIds[slot])]).string(0, 0))
            let list = try XCTUnwrap(try cache.lookup(user: user)).list
            XCTAssertEqual(list.items.count, 20)
            XCTAssertEqual(list.scores, list.scores.sorted(by: >), "best first")
            XCTAssertEqual(list.historyUntil, histories.times[range.upperBound - 1])
            let seen = Set(histories.items[range].map { external[$0]! })
            XCTAssertTrue(seen.isDisjoint(with: list.items), "seen items are excluded")
            let direct = model.topK([model.modelHistory(items: histories.items[range], times: histories.times[range], behaviours: histories.behaviours[range], values: histories.values[range])], k: 20, seen: .exclude)[0]
            XCTAssertEqual(model.externalIds(direct.items), list.items, "the cache holds the model's own ranking")
            seenInLists += seen.count
        }
        XCTAssertGreaterThan(seenInLists, 0)

        let unchanged = try f.score(f.sasrec, users: .changed)
        XCTAssertEqual(unchanged.users, 0)
        XCTAssertEqual(unchanged.unchangedUsers, 200)

        _ = try f.score(f.sasrec, seen: .include, topK: 100)
        let all = try XCTUnwrap(try cache.lookup(user: "u0")).list
        XCTAssertEqual(all.items.count, 100, "with seen items the whole catalogue of 100 can be listed")
    }

    /// Under each seen-items rule, the list `pleat score` caches and `pleat recommend` serves (from the
    /// cache, and live once the entry is gone) is exactly the list the evaluator ranks for the same
    /// history; a seen target is a miss for the evaluator and absent from every served list under
    /// `exclude`, and under `include` its evaluated rank is its place in the served list.
    func testTheEvaluatedListIsTheServedList() throws {
        let f = try WalkFixture()
        defer { f.remove() }
        let histories = try HistoryLoader.load(from: f.db)
        let model = try ScoringModel.load(f.sasrec, db: f.db, batchSize: 32)
        let users = try f.db.query("SELECT id, external_id FROM users")
        let external = Dictionary(uniqueKeysWithValues: (0..<users.rowCount).map { (users.int($0, 0)!, users.string($0, 1)!) })
        let slots = Array(0..<32)
        // Each user's whole stored history (what scoring reads), with the user's most recent item as the
        // target: an item the user has seen.
        let examples = slots.map { slot in
            let h = model.modelHistory(items: histories.items[histories.range(slot)], times: histories.times[histories.range(slot)], behaviours: histories.behaviours[histories.range(slot)], values: histories.values[histories.range(slot)])
            return SequenceSplit.Example(user: slot, history: h.items[...], historyTimes: h.times[...], target: h.items.last!, targetTime: h.times.last!)
        }
        for seen in SeenItems.allCases {
            _ = try f.score(f.sasrec, seen: seen, topK: 20)
            XCTAssertEqual(try f.cache().activeSet()?.seen, seen)
            let (ranks, lists) = Evaluator.ranked(model.ranker, examples, seen: seen, listLength: 20)
            let recommender = try Recommender(databaseURL: f.url, cachePath: f.cachePath)
            for (example, (rank, list)) in zip(examples, zip(ranks, lists)) {
                let user = external[Int(histories.userIds[example.user])]!
                let evaluated = model.externalIds(list)
                let cached = try XCTUnwrap(try f.cache().lookup(user: user)).list.items
                XCTAssertEqual(cached, evaluated, "\(seen) \(user): the cached list is the evaluated one")
                let served = try recommender.recommend(user: user, k: 20)
                XCTAssertEqual(served.source, .cache)
                XCTAssertEqual(served.items.map(\.item), evaluated, "\(seen) \(user): served from the cache")
                let target = model.externalIds([example.target])[0]
                switch seen {
                case .exclude:
                    XCTAssertEqual(rank, RankingMetrics.miss, "a seen target is a miss")
                    XCTAssertFalse(served.items.map(\.item).contains(target))
                case .include:
                    XCTAssertEqual(served.items.map(\.item).firstIndex(of: target), rank < 20 ? rank : nil, "\(user): its rank is its place")
                }
            }
            // Live scoring (the entry gone) follows the set's rule too.
            let user = external[Int(histories.userIds[examples[0].user])]!
            try SQLiteConnection(path: f.cachePath).execute("DELETE FROM recommendations WHERE user_id = '\(user)'")
            let live = try Recommender(databaseURL: f.url, cachePath: f.cachePath).recommend(user: user, k: 20)
            XCTAssertEqual(live.source, .live)
            XCTAssertEqual(live.items.map(\.item), model.externalIds(lists[0]), "\(seen): live scoring serves the evaluated list")
        }
        XCTAssertGreaterThan(Evaluator.ranked(model.ranker, examples, seen: .include).ranks.filter { $0 < 20 }.count, 0,
                             "some seen targets are in the include lists, so the place check above ran")
    }

    /// While a new model's lists are written and switched in, a reader that reads every user in one
    /// statement always sees one model's complete set; afterwards only the new set is left.
    func testModelSwitchIsAtomicForAConcurrentReader() throws {
        let f = try WalkFixture()
        defer { f.remove() }
        _ = try f.score(f.sasrec)
        let reader = try SQLiteConnection(path: f.cachePath)
        let snapshot = try reader.prepare("""
            SELECT r.model_id, count(*), min(length(r.items)) FROM active_model a JOIN recommendations r ON r.model_id = a.model_id GROUP BY r.model_id
            """)
        let log = ReaderLog(snapshot)
        let readerThread = Thread { log.readUntilStopped() }
        readerThread.start()
        _ = try f.score(f.hstu)  // in transactions of 64 users, then the switch
        Thread.sleep(forTimeInterval: 0.05)
        log.stop()
        while !readerThread.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        let (observations, mixed) = (log.observations, log.mixed)
        XCTAssertEqual(mixed, 0, "every read saw exactly one model")
        XCTAssertTrue(observations.allSatisfy { $0.1 == 200 }, "every read saw a complete set")
        XCTAssertEqual(Set(observations.map(\.0)), [f.sasrec.id, f.hstu.id], "the reader saw the old set, then the new one")
        XCTAssertEqual(observations.last?.0, f.hstu.id)
        let left = try reader.prepare("SELECT DISTINCT model_id FROM recommendations")
        var models: [String] = []
        while try left.step() { models.append(left.text(0)) }
        XCTAssertEqual(models, [f.hstu.id], "the old set is pruned after the switch")
    }

    /// `pleat score --shard I/N --cache FILE` for each of 3 shards: every user in exactly one cache, the
    /// cache of the shard the shard function names, with the list an unsharded run gives.
    func testShardedScoringCoversEveryUserExactlyOnce() throws {
        let f = try WalkFixture()
        defer { f.remove() }
        _ = try f.score(f.sasrec)
        let whole = try f.cache()
        var owner: [String: Int] = [:]
        for index in 0..<3 {
            let shard = try Shard(index: index, count: 3)
            let path = f.directory.appendingPathComponent("cache-\(index)-of-3.sqlite").path
            let report = try f.score(f.sasrec, shard: shard, cachePath: path)
            XCTAssertEqual(report.shard, "\(index)/3")
            let cache = try f.cache(path)
            let users = try cache.historyMarks(modelId: f.sasrec.id).keys
            XCTAssertEqual(report.users, users.count)
            XCTAssertGreaterThan(users.count, 40, "about a third of 200")
            for user in users {
                XCTAssertNil(owner[user], "\(user) is in shards \(owner[user] ?? -1) and \(index)")
                owner[user] = index
                XCTAssertTrue(shard.owns(user))
                XCTAssertEqual(try cache.lookup(user: user)?.list.items, try whole.lookup(user: user)?.list.items, user)
            }
        }
        XCTAssertEqual(Set(owner.keys), Set((0..<200).map { "u\($0)" }), "every user scored once")
    }

    /// cache → a new interaction makes the entry stale → live (written through) → cache again; a user
    /// without a list is scored live exactly as the batch would; unknown users get popular items,
    /// flagged; an item newer than the model is never recommended.
    func testRecommendFromCacheLiveAndFallback() throws {
        let f = try WalkFixture()
        defer { f.remove() }
        _ = try f.score(f.sasrec)
        let recommender = try Recommender(databaseURL: f.url, cachePath: f.cachePath)
        let first = try recommender.recommend(user: "u3", k: 5)
        XCTAssertEqual(first.source, .cache)
        XCTAssertEqual(first.modelId, f.sasrec.id)
        XCTAssertEqual(first.items.count, 5)

        // A new event (and a cold-start item the model has never seen) for u3.
        try f.ingest("user_id,item_id,timestamp\nu3,\(first.items[0].item),5000\nu3,brand-new,5010\n", name: "new.csv")
        let stale = try recommender.recommend(user: "u3", k: 5)
        XCTAssertEqual(stale.source, .live, "newer interactions make the cached entry stale")
        XCTAssertFalse(stale.items.map(\.item).contains(first.items[0].item), "the newly seen item is now excluded")
        XCTAssertFalse(stale.items.map(\.item).contains("brand-new"), "items outside the model's vocabulary are never recommended")
        let again = try recommender.recommend(user: "u3", k: 5)
        XCTAssertEqual(again.source, .cache, "the live answer was written through")
        XCTAssertEqual(again.items, stale.items)

        // A miss: scored live, the same list as the batch computed.
        let batch = try XCTUnwrap(try f.cache().lookup(user: "u7")).list
        try SQLiteConnection(path: f.cachePath).execute("DELETE FROM recommendations WHERE user_id = 'u7'")
        let missed = try recommender.recommend(user: "u7", k: 10)
        XCTAssertEqual(missed.source, .live)
        XCTAssertEqual(missed.items.map(\.item), Array(batch.items.prefix(10)))

        let unknown = try recommender.recommend(user: "nobody", k: 3)
        XCTAssertEqual(unknown.source, .fallback)
        XCTAssertEqual(unknown.items.count, 3)
        XCTAssertTrue(unknown.message?.contains("unknown user nobody") ?? false, unknown.message ?? "no message")
        XCTAssertEqual(unknown.items.map(\.score), unknown.items.map(\.score).sorted(by: >))
    }
}

/// A reader thread's loop over one statement, and what it saw (read after the thread has finished).
final class ReaderLog: @unchecked Sendable {
    private let statement: SQLiteStatement
    private let lock = NSLock()
    private var stopped = false
    var observations: [(String, Int64)] = [], mixed = 0

    init(_ statement: SQLiteStatement) { self.statement = statement }

    func stop() { lock.withLock { stopped = true } }

    func readUntilStopped() {
        while !lock.withLock({ stopped }) {
            statement.bind()
            var rows = 0
            while (try? statement.step()) == true {
                rows += 1
                observations.append((statement.text(0), statement.int(1)))
            }
            if rows != 1 { mixed += 1 }
        }
    }
}
