import Foundation

/// One user's top-K under one model, as the cache stores it.
public struct RankedList: Sendable, Equatable {
    public var user: String
    /// External item ids, best first.
    public var items: [String]
    public var scores: [Float]
    /// Unix seconds of the newest event of the history it was computed from: newer events make it stale.
    public var historyUntil: Int64
    public var computedAt: Double

    public init(user: String, items: [String], scores: [Float], historyUntil: Int64, computedAt: Double) {
        (self.user, self.items, self.scores, self.historyUntil, self.computedAt) = (user, items, scores, historyUntil, computedAt)
    }
}
