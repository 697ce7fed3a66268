/// A PostgreSQL session-level advisory lock named by text: held until released or until the session
/// ends, so a process that is killed gives it up with its connection.
public struct AdvisoryLock {
    let db: PostgresConnection
    public let name: String

    /// Hold the connection for as long as the lock is needed; use it for nothing that might end its session.
    public init(_ db: PostgresConnection, name: String) { (self.db, self.name) = (db, name) }

    /// Takes the lock if it is free; false when another session holds it.
    public func tryAcquire() throws -> Bool {
        try db.query("SELECT pg_try_advisory_lock(hashtext($1))", [name]).string(0, 0) == "t"
    }

    /// Waits until the lock is free, then takes it.
    public func acquire() throws { _ = try db.query("SELECT pg_advisory_lock(hashtext($1))", [name]) }

    public func release() throws { _ = try db.query("SELECT pg_advisory_unlock(hashtext($1))", [name]) }
}
