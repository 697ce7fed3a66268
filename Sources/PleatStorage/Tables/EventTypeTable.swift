/// The `event_types` table: the behaviours a log names (view, cart, buy, …) and the ids events store.
public struct EventTypeTable {
    let db: PostgresConnection
    public init(_ db: PostgresConnection) { self.db = db }

    /// Every event type's id, by name.
    public func ids() throws -> [String: Int16] {
        var byName: [String: Int16] = [:]
        for row in try db.query("SELECT id, name FROM event_types").rows {
            byName[try row.string("name")] = try row.int16("id")
        }
        return byName
    }
}
