import Foundation
import PleatCore
import PleatStorage

/// The answer to "what next for this user": `pleat recommend --json` and the HTTP endpoint print it.
public struct Recommendation: Sendable, Codable, Equatable {
    public enum Source: String, Sendable, Codable {
        /// The active model's cached list, current with the user's history.
        case cache
        /// Scored now with the active model (a miss or a stale entry), and written through to the cache.
        case live
        /// The model cannot score this user (unknown, or no event it knows): its most popular items.
        case fallback
    }

    /// Whether the list was checked against the user's newest event in PostgreSQL.
    public enum Freshness: String, Sendable, Codable {
        case checked
        /// PostgreSQL could not be reached: the active model's cached list, which may miss the newest events.
        case unchecked
    }

    public struct Item: Sendable, Codable, Equatable {
        public var item: String
        public var score: Float
    }

    public var user: String
    /// The behaviour the list answers for (`?event=`); absent for the model's own question.
    public var event: String?
    public var items: [Item]
    public var modelId: String
    public var source: Source
    public var freshness: Freshness
    /// ISO 8601, UTC.
    public var computedAt: String
    /// Why the answer is a fallback.
    public var message: String?
    /// How many of the request's recent events the list takes into account (events of items the model
    /// knows, not already stored); absent when the request brought none.
    public var recentEvents: Int?

    init(user: String, list: RankedList, k: Int, modelId: String, source: Source, freshness: Freshness = .checked, message: String? = nil) {
        self.user = user
        event = list.event.isEmpty ? nil : list.event
        items = zip(list.items, list.scores).prefix(k).map { Item(item: $0, score: $1) }
        self.modelId = modelId
        self.source = source
        self.freshness = freshness
        computedAt = Self.timestamp(list.computedAt)
        self.message = message
    }

    static func timestamp(_ seconds: Double) -> String { UTCTimestamp.string(seconds) }
}
