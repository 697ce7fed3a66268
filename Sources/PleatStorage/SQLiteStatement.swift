import CSQLite
import Foundation

/// A prepared statement, kept and reused: bind parameters (1-based), step through rows, read columns
/// (0-based), reset.
public final class SQLiteStatement {
    private let handle: OpaquePointer
    private unowned let connection: SQLiteConnection
    /// SQLite copies bound text and blobs only with this destructor value.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ connection: SQLiteConnection, _ sql: String) throws {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v3(connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK,
              let statement else {
            throw SQLiteError("\(connection.lastErrorMessage) (in: \(sql.prefix(80)))")
        }
        (handle, self.connection) = (statement, connection)
    }

    deinit { sqlite3_finalize(handle) }

    /// Resets the statement and binds `values` to its parameters in order.
    @discardableResult
    public func bind(_ values: SQLiteValue...) -> SQLiteStatement {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            switch value {
            case .null: sqlite3_bind_null(handle, index)
            case .integer(let v): sqlite3_bind_int64(handle, index, v)
            case .real(let v): sqlite3_bind_double(handle, index, v)
            case .text(let v): sqlite3_bind_text(handle, index, v, -1, Self.transient)
            case .blob(let bytes): bytes.withUnsafeBytes { _ = sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), Self.transient) }
            }
        }
        return self
    }

    /// Advances to the next row: true if there is one, false when done.
    public func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError(connection.lastErrorMessage)
        }
    }

    /// Ends the statement's current run. A statement left on a row keeps its read transaction (and
    /// so its snapshot) open: readers that stop early must reset.
    public func reset() { sqlite3_reset(handle) }

    /// Runs a statement that returns no rows.
    public func run() throws { while try step() {} }

    public func isNull(_ column: Int) -> Bool { sqlite3_column_type(handle, Int32(column)) == SQLITE_NULL }
    public func int(_ column: Int) -> Int64 { sqlite3_column_int64(handle, Int32(column)) }
    public func double(_ column: Int) -> Double { sqlite3_column_double(handle, Int32(column)) }
    public func text(_ column: Int) -> String {
        guard let bytes = sqlite3_column_text(handle, Int32(column)) else { return "" }
        return String(cString: bytes)
    }
    /// The column's bytes, valid until the next step or reset.
    public func blob(_ column: Int) -> UnsafeRawBufferPointer {
        let count = Int(sqlite3_column_bytes(handle, Int32(column)))
        guard count > 0, let base = sqlite3_column_blob(handle, Int32(column)) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base, count: count)
    }
}

/// A value bound to a statement parameter.
public enum SQLiteValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}
