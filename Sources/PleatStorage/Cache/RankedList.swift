import Foundation

/// One user's top-K under one model, as the cache stores it.
public struct RankedList: Sendable, Equatable {
    public var user: String
    /// The behaviour it answers for (an event type name: "what will this user buy next?"); "" for the
    /// model's own question, its target behaviour or the next event of any kind.
    public var event: String
    /// External item ids, best first.
    public var items: [String]
    public var scores: [Float]
    /// Unix seconds of the newest event of the history it was computed from: newer events make it stale.
    public var historyUntil: Int64
    public var computedAt: Double

    public init(user: String, event: String = "", items: [String], scores: [Float], historyUntil: Int64, computedAt: Double) {
        (self.user, self.event, self.items, self.scores, self.historyUntil, self.computedAt) = (user, event, items, scores, historyUntil, computedAt)
    }
}
