extension SQLiteConnection: MigrationTarget {
    /// SQLite's write lock (BEGIN IMMEDIATE) serialises migrators.
    public func withMigrationLock<T>(_ body: () throws -> T) throws -> T { try transaction(body) }

    public func createMigrationTable() throws {
        try execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                checksum   TEXT NOT NULL,
                applied_at TEXT NOT NULL DEFAULT (datetime('now'))
            )
            """)
    }

    public func appliedMigrationChecksums() throws -> [Int: String] {
        let rows = try prepare("SELECT version, checksum FROM schema_migrations")
        var applied: [Int: String] = [:]
        while try rows.step() { applied[Int(rows.int(0))] = rows.text(1) }
        return applied
    }

    /// Already inside the migration lock's transaction.
    public func apply(_ migration: Migration) throws {
        try execute(migration.sql)
        try prepare("INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)")
            .bind(.integer(Int64(migration.version)), .text(migration.name), .text(migration.checksum)).run()
    }
}
