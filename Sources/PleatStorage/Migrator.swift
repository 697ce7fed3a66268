/// Applies pending migrations in order, each in its own transaction, recording them in
/// `schema_migrations` with their checksum.
///
/// It refuses to run when an applied file has changed since (the database would no longer match the
/// code), and holds an advisory lock so two concurrent `migrate` calls never both apply.
public struct Migrator {
    public let migrations: [Migration]

    /// Arbitrary but fixed: the session-level advisory lock that serialises migrators.
    static let lockKey = 0x506C_6561_7401  // "Pleat" 01

    public init(migrations: [Migration]) { self.migrations = migrations }

    public struct Outcome: Sendable {
        public let applied: [Migration]
        public let alreadyApplied: Int
    }

    public func migrate(_ db: PostgresConnection) throws -> Outcome {
        try db.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
        defer { _ = try? db.execute("SELECT pg_advisory_unlock(\(Self.lockKey))") }

        try db.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let applied = try appliedChecksums(db)
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, checksum) in applied.sorted(by: { $0.key < $1.key }) {
            guard let migration = known[version] else {
                throw MigrationError("the database has migration \(version) applied, which is not in migrations/: is this checkout older than the database?")
            }
            guard migration.checksum == checksum else {
                throw MigrationError("migration \(version)_\(migration.name).sql changed after it was applied (checksum \(checksum.prefix(12)) in the database, \(migration.checksum.prefix(12)) on disk): add a new migration instead of editing an applied one")
            }
        }
        var done: [Migration] = []
        for migration in migrations where applied[migration.version] == nil {
            do {
                try db.transaction {
                    try db.execute(migration.sql)
                    _ = try db.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                     [String(migration.version), migration.name, migration.checksum])
                }
            } catch {
                throw MigrationError("migration \(migration.version)_\(migration.name).sql failed: \(error)")
            }
            done.append(migration)
        }
        return Outcome(applied: done, alreadyApplied: applied.count)
    }

    /// Versions that are known but not yet applied.
    public func pending(_ db: PostgresConnection) throws -> [Migration] {
        let exists = try db.query("SELECT to_regclass('schema_migrations') IS NOT NULL").bool(0, 0) ?? false
        let applied = exists ? try appliedChecksums(db) : [:]
        return migrations.filter { applied[$0.version] == nil }
    }

    private func appliedChecksums(_ db: PostgresConnection) throws -> [Int: String] {
        let rows = try db.query("SELECT version, checksum FROM schema_migrations")
        var applied: [Int: String] = [:]
        for row in 0..<rows.rowCount { applied[rows.int(row, 0)!] = rows.string(row, 1)! }
        return applied
    }
}
