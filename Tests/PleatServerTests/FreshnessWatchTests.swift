import Foundation
import XCTest
import PleatCore
import PleatStorage
import PleatTestSupport
@testable import PleatScoring

/// Cache hits without a PostgreSQL round trip: the server learns of ingest commits from their
/// announcements and asks PostgreSQL for a user's newest event once after each, with the same answers.
final class FreshnessWatchTests: XCTestCase {
    /// A walk fixture with SASRec's lists active, and a recommender that has heard of its last ingest.
    static func watchingRecommender() throws -> (WalkFixture, Recommender) {
        let f = try WalkFixture()
        _ = try f.score(f.sasrec)
        let recommender = try Recommender(databaseURL: f.url, cachePath: f.cachePath)
        recommender.watchIngests()
        XCTAssertTrue(recommender.waitUntilWatched(batch: try IngestBatches.newestCommitted(f.db)))
        return (f, recommender)
    }

    func testAHitAsksPostgreSQLOncePerUserAfterEachIngestAndTheAnswersStayTheSame() throws {
        let (f, recommender) = try Self.watchingRecommender()
        defer { recommender.stopWatching(); f.remove() }

        let first = try recommender.recommend(user: "u5", k: 10)
        XCTAssertEqual(first.source, .cache)
        XCTAssertEqual(recommender.freshnessQueries, 1)
        for _ in 0..<20 { XCTAssertEqual(try recommender.recommend(user: "u5", k: 10), first) }
        _ = try recommender.recommend(user: "stranger", k: 5)
        _ = try recommender.recommend(user: "stranger", k: 5)
        XCTAssertEqual(recommender.freshnessQueries, 2, "later hits, and an unknown user's second request, come from memory")

        // Another user's events: u5's list is still current, after one more question.
        try f.ingest("user_id,item_id,timestamp\nu6,i1,9000\n", name: "u6.csv")
        XCTAssertTrue(recommender.waitUntilWatched(batch: try IngestBatches.newestCommitted(f.db)))
        XCTAssertEqual(try recommender.recommend(user: "u5", k: 10).source, .cache)
        XCTAssertEqual(recommender.freshnessQueries, 3)
        // u5's own events: stale, scored live, then a hit again without asking.
        try f.ingest("user_id,item_id,timestamp\nu5,i1,9000\n", name: "u5.csv")
        XCTAssertTrue(recommender.waitUntilWatched(batch: try IngestBatches.newestCommitted(f.db)))
        let after = try recommender.recommend(user: "u5", k: 10)
        XCTAssertEqual(after.source, .live)
        XCTAssertEqual(try recommender.recommend(user: "u5", k: 10).source, .cache)
        XCTAssertEqual(recommender.freshnessQueries, 4)
        // The same lists as a recommender that asks every time (u6, stale, is scored live by the first to
        // ask and written through; the other then has it from the cache).
        let asking = try Recommender(databaseURL: f.url, cachePath: f.cachePath)
        for user in ["u5", "u6", "u7", "stranger"] {
            let (watched, asked) = (try recommender.recommend(user: user, k: 10), try asking.recommend(user: user, k: 10))
            XCTAssertEqual(watched.items, asked.items, user)
        }
    }

    /// End to end through a lost connection: the server's sessions and its listener are cut, the user's
    /// events are ingested at once (while it is deaf, or just after it reconnects: either way), and the
    /// user's cached list is then stale: scored live, checked.
    func testEventsIngestedWhileDisconnectedMakeTheListStale() throws {
        let (f, recommender) = try Self.watchingRecommender()
        defer { recommender.stopWatching(); f.remove() }
        XCTAssertEqual(try recommender.recommend(user: "u5", k: 10).source, .cache)
        let asked = recommender.freshnessQueries
        XCTAssertEqual(try recommender.recommend(user: "u5", k: 10).source, .cache)
        XCTAssertEqual(recommender.freshnessQueries, asked, "known: no question")

        _ = try f.db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        try f.ingest("user_id,item_id,timestamp\nu5,i1,9000\n", name: "while-deaf.csv")
        XCTAssertTrue(recommender.waitUntilWatched(batch: try IngestBatches.newestCommitted(f.db)), "the watch catches up")
        Thread.sleep(forTimeInterval: recommender.retryAfterFailure)
        let after = try recommender.recommend(user: "u5", k: 10)
        XCTAssertEqual(after.source, .live, "the new event makes the cached list stale")
        XCTAssertEqual(after.freshness, .checked)
    }

    /// A lost listening connection: nothing remembered is used until it is back; then it stays valid if
    /// no batch committed meanwhile, and is forgotten if one did.
    func testAfterReconnectingWhatWasKnownStaysOnlyIfNoBatchCommitted() throws {
        let f = try WalkFixture()
        defer { f.remove() }
        let refuse = Flag()
        let watch = FreshnessWatch(connect: {
            if refuse.value { throw PostgresError("refused by the test") }
            return try IngestAnnouncements(url: f.url)
        }, onLost: {})
        watch.start()
        defer { watch.stop() }
        func waitListening(_ expected: Bool) {
            for _ in 0..<400 where watch.isListening != expected { Thread.sleep(forTimeInterval: 0.01) }
            XCTAssertEqual(watch.isListening, expected)
        }
        waitListening(true)
        watch.remember((id: 5, second: 1_190), of: "u5", generation: watch.currentGeneration)
        XCTAssertEqual(watch.newestEvent(of: "u5")??.second, 1_190)

        func dropListener() throws {
            refuse.value = true
            _ = try f.db.query("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                """)
            waitListening(false)
            XCTAssertNil(watch.newestEvent(of: "u5"), "nothing known is used while announcements may be missed")
        }
        try dropListener()
        refuse.value = false
        waitListening(true)
        XCTAssertEqual(watch.newestEvent(of: "u5")??.second, 1_190, "no batch committed meanwhile: still valid")

        try dropListener()
        try f.ingest("user_id,item_id,timestamp\nu5,i1,9000\n", name: "meanwhile.csv")
        refuse.value = false
        waitListening(true)
        XCTAssertNil(watch.newestEvent(of: "u5"), "a batch committed while deaf: forgotten")
        XCTAssertEqual(watch.lastBatch, try IngestBatches.newestCommitted(f.db))

        // A reading taken before an announcement is not remembered after it.
        let stale = watch.currentGeneration
        try f.ingest("user_id,item_id,timestamp\nu5,i2,9100\n", name: "later.csv")
        for _ in 0..<400 where watch.currentGeneration == stale { Thread.sleep(forTimeInterval: 0.01) }
        watch.remember((id: 5, second: 9_000), of: "u5", generation: stale)
        XCTAssertNil(watch.newestEvent(of: "u5"))
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = false
    var value: Bool {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
