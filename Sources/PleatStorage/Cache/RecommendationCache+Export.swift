import Foundation

extension RecommendationCache {
    /// Every list of the active model (what `lookup` serves), by user and event, one at a time: read as
    /// a stream, so memory does not grow with the number of users. `body` gets the model id and the list.
    public func forEachActiveList(_ body: (String, RankedList) throws -> Void) throws {
        let statement = try db.prepare("""
            SELECT r.model_id, r.user_id, r.event, r.items, r.scores, r.history_until, r.computed_at
            FROM active_model a JOIN recommendations r ON r.model_id = a.model_id
            ORDER BY r.user_id, r.event
            """)
        statement.bind()
        defer { statement.reset() }
        while try statement.step() {
            try body(statement.text(0), try Self.list(statement, from: 3, user: statement.text(1), event: statement.text(2)))
        }
    }
}
