/// Applies pending migrations in order, each in its own transaction, recording them in
/// `schema_migrations` with their checksum. The same rules serve PostgreSQL (`migrations/`) and the
/// SQLite recommendation cache (`migrations/sqlite/`).
///
/// It refuses to run when an applied file has changed since (the database would no longer match the
/// code), and holds the database's lock so two concurrent `migrate` calls never both apply.
public struct Migrator {
    public let migrations: [Migration]

    public init(migrations: [Migration]) { self.migrations = migrations }

    public struct Outcome: Sendable {
        public let applied: [Migration]
        public let alreadyApplied: Int
    }

    public func migrate(_ db: some MigrationTarget) throws -> Outcome {
        try db.withMigrationLock {
            try db.createMigrationTable()
            let applied = try db.appliedMigrationChecksums()
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
                    try db.apply(migration)
                } catch {
                    throw MigrationError("migration \(migration.version)_\(migration.name).sql failed: \(error)")
                }
                done.append(migration)
            }
            return Outcome(applied: done, alreadyApplied: applied.count)
        }
    }

    /// Versions that are known but not yet applied.
    public func pending(_ db: PostgresConnection) throws -> [Migration] {
        let exists = try db.query("SELECT to_regclass('schema_migrations') IS NOT NULL").bool(0, 0) ?? false
        let applied = exists ? try db.appliedMigrationChecksums() : [:]
        return migrations.filter { applied[$0.version] == nil }
    }
}
