extension PostgresConnection: MigrationTarget {
    /// Arbitrary but fixed: the session-level advisory lock that serialises migrators.
    static let migrationLockKey = 0x506C_6561_7401  // "Pleat" 01

    public func withMigrationLock<T>(_ body: () throws -> T) throws -> T {
        try execute("SELECT pg_advisory_lock(\(Self.migrationLockKey))")
        defer { _ = try? execute("SELECT pg_advisory_unlock(\(Self.migrationLockKey))") }
        return try body()
    }

    public func createMigrationTable() throws {
        try execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
    }

    public func appliedMigrationChecksums() throws -> [Int: String] {
        let rows = try query("SELECT version, checksum FROM schema_migrations")
        var applied: [Int: String] = [:]
        for row in rows.rows { applied[try row.int("version")] = try row.string("checksum") }
        return applied
    }

    public func apply(_ migration: Migration) throws {
        try transaction {
            try execute(migration.sql)
            _ = try query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                          [.int(migration.version), .text(migration.name), .text(migration.checksum)])
        }
    }
}
