import CSQLite
import Foundation

/// One SQLite connection to a file, in WAL mode: readers never block the writer and always see the
/// last committed transaction. Not thread-safe: use one per thread.
///
/// Pleat reads SQLite through its C API directly: a primary-key read through a reused prepared
/// statement costs microseconds, which is what the recommendation cache is for.
public final class SQLiteConnection {
    let handle: OpaquePointer
    public let path: String

    /// Opens (creating it and its directory if needed) the database at `path`.
    public init(path: String, readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 5_000) throws {
        self.path = path
        if !readOnly {
            try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &db, flags, nil)
        guard status == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw SQLiteError("cannot open \(path): \(message)")
        }
        handle = db
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        if !readOnly { try execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL") }
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? lastErrorMessage
            sqlite3_free(message)
            throw SQLiteError("\(text) (in: \(sql.prefix(80)))")
        }
    }

    public func prepare(_ sql: String) throws -> SQLiteStatement { try SQLiteStatement(self, sql) }

    /// Runs `body` inside BEGIN IMMEDIATE/COMMIT (the write lock is taken up front, so a concurrent
    /// writer waits instead of failing mid-transaction), rolling back if it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try Transaction.run(begin: "BEGIN IMMEDIATE", execute: { try execute($0) }, body)
    }

    var lastErrorMessage: String { String(cString: sqlite3_errmsg(handle)) }

    /// Rows the last INSERT, UPDATE or DELETE changed.
    public var changes: Int { Int(sqlite3_changes(handle)) }
}

/// An error reported by SQLite.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
