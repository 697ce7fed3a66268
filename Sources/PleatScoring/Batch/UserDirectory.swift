import PleatStorage

/// Users' external ids by database id.
struct UserDirectory {
    let externalIds: [Int32: String]

    init(db: PostgresConnection) throws { externalIds = try UserTable(db).externalIds() }
}
