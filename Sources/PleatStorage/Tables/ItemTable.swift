/// The `items` table: each item's external id and the dense id Pleat gave it.
public struct ItemTable {
    let db: PostgresConnection
    public init(_ db: PostgresConnection) { self.db = db }

    /// Every item's external id, by database id.
    public func externalIds() throws -> [Int32: String] {
        var byId: [Int32: String] = [:]
        for row in try db.query("SELECT id, external_id FROM items").rows { byId[try row.int32("id")] = try row.string("external_id") }
        return byId
    }

    /// The database ids of those of `externalIds` the table holds.
    public func ids(of externalIds: [String]) throws -> [String: Int32] {
        var byExternal: [String: Int32] = [:]
        for row in try db.query("SELECT id, external_id FROM items WHERE external_id = ANY($1::text[])", [.textArray(externalIds)]).rows {
            byExternal[try row.string("external_id")] = try row.int32("id")
        }
        return byExternal
    }

    /// Each item's category: `item_metadata.category`, else its first genre; items without either are absent.
    public func categories() throws -> [Int32: String] {
        var byId: [Int32: String] = [:]
        for row in try db.query("SELECT item_id, coalesce(nullif(category, ''), genres[1]) AS category FROM item_metadata").rows {
            if let category = try row.optionalString("category") { byId[try row.int32("item_id")] = category }
        }
        return byId
    }

    /// Events per item in the batches up to `batch` (a model's data snapshot), by database id.
    public func eventCounts(throughBatch batch: Int) throws -> [Int32: Int] {
        var byId: [Int32: Int] = [:]
        for row in try db.query("SELECT item_id, count(*) AS events FROM interactions WHERE batch_id <= $1 GROUP BY item_id", [.int(batch)]).rows {
            byId[try row.int32("item_id")] = try row.int("events")
        }
        return byId
    }
}
