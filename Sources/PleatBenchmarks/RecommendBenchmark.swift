import Foundation
import PleatCore
import PleatScoring
import PleatStorage

/// In-process latency of `Recommender.recommend`: cache hits for random scored users, and live scoring
/// (each user's cache entry deleted just before the timed call), and session requests (live scoring of
/// the stored history plus `recentEvents` items the request brings). Needs a scored cache.
public struct RecommendBenchmark {
    public var cacheRequests = 20_000
    public var liveRequests = 300
    public var sessionRequests = 300
    /// Items each session request brings.
    public var recentEvents = 5
    /// Their event type (nil: the database's default, as for requests).
    public var recentEventType: String?
    public var k = 10

    public init() {}

    public struct Result: Sendable, Codable {
        public var cacheRequests: Int, cacheP50Ms: Double, cacheP99Ms: Double
        public var liveRequests: Int, liveP50Ms: Double, liveP99Ms: Double
        public var liveMeanHistory: Double
        public var sessionRequests: Int, sessionP50Ms: Double, sessionP99Ms: Double, sessionRecentEvents: Int
    }

    public func run(databaseURL: String, cachePath: String) throws -> Result {
        let recommender = try Recommender(databaseURL: databaseURL, cachePath: cachePath)
        let db = try PostgresConnection(url: databaseURL)
        let users = try UserTable(db).eventCounts()
        guard !users.isEmpty else { throw ScoringError("no users to ask for") }
        var rng = RandomSource(seed: 11)
        func timed(_ body: () throws -> Recommendation) throws -> (Double, Recommendation) {
            let start = DispatchTime.now().uptimeNanoseconds
            let answer = try body()
            return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6, answer)
        }
        var cache: [Double] = []
        for _ in 0..<cacheRequests {
            let user = users[rng.below(users.count)].0
            let (ms, answer) = try timed { try recommender.recommend(user: user, k: k) }
            guard answer.source == .cache else { throw ScoringError("user \(user) was not a cache hit (\(answer.source)): score all users first") }
            cache.append(ms)
        }
        let writer = try RecommendationCache(path: cachePath)
        var live: [Double] = [], history = 0
        for _ in 0..<liveRequests {
            let (user, events) = users[rng.below(users.count)]
            try writer.remove(user: user)
            let (ms, answer) = try timed { try recommender.recommend(user: user, k: k) }
            guard answer.source == .live else { throw ScoringError("user \(user) was not scored live (\(answer.source))") }
            live.append(ms)
            history += events
        }
        let items = Array(try ItemTable(db).externalIds().values).sorted()
        var session: [Double] = []
        let now = Int64(Date().timeIntervalSince1970)
        for _ in 0..<sessionRequests {
            let user = users[rng.below(users.count)].0
            let recent = (0..<recentEvents).map { RecentEvent(item: items[rng.below(items.count)], time: now + Int64($0), event: recentEventType) }
            let (ms, answer) = try timed { try recommender.recommend(user: user, k: k, recent: recent) }
            guard answer.source == .live else { throw ScoringError("user \(user) was not scored live (\(answer.source))") }
            session.append(ms)
        }
        func percentile(_ values: [Double], _ p: Double) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
        }
        return Result(cacheRequests: cache.count, cacheP50Ms: percentile(cache, 0.5), cacheP99Ms: percentile(cache, 0.99),
                      liveRequests: live.count, liveP50Ms: percentile(live, 0.5), liveP99Ms: percentile(live, 0.99),
                      liveMeanHistory: Double(history) / Double(max(live.count, 1)),
                      sessionRequests: session.count, sessionP50Ms: percentile(session, 0.5), sessionP99Ms: percentile(session, 0.99),
                      sessionRecentEvents: recentEvents)
    }
}
