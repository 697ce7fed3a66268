/// A database that migrations can be applied to.
public protocol MigrationTarget {
    /// Runs `body` holding a lock that serialises migrators.
    func withMigrationLock<T>(_ body: () throws -> T) throws -> T
    func createMigrationTable() throws
    /// Applied versions and their checksums.
    func appliedMigrationChecksums() throws -> [Int: String]
    /// Runs the migration and records it, in one transaction.
    func apply(_ migration: Migration) throws
}
