import PleatStorage

/// Users' external ids by database id, and the reverse.
struct UserDirectory {
    private(set) var externalIds: [Int32: String] = [:]

    init(db: PostgresConnection) throws {
        let rows = try db.query("SELECT id, external_id FROM users")
        externalIds.reserveCapacity(rows.rowCount)
        for r in 0..<rows.rowCount { externalIds[Int32(rows.int(r, 0)!)] = rows.string(r, 1)! }
    }
}
