import CLibPQ
import Foundation
import PleatCore

/// The rows of one statement's result, read as text.
public final class QueryResult {
    private let result: OpaquePointer?

    init(_ raw: OpaquePointer?, connection: OpaquePointer, expecting expected: ExecStatusType? = nil) throws {
        guard let raw else { throw PostgresError(String(cString: PQerrorMessage(connection))) }
        let status = PQresultStatus(raw)
        let ok = expected.map { status == $0 } ?? (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        guard ok else {
            let message = String(cString: PQresultErrorMessage(raw))
            let state = PQresultErrorField(raw, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            PQclear(raw)
            throw PostgresError(message.isEmpty ? "unexpected result status \(status)" : message, sqlState: state)
        }
        result = raw
    }

    deinit { PQclear(result) }

    public var rowCount: Int { Int(PQntuples(result)) }

    public var affectedRows: Int { Int(String(cString: PQcmdTuples(result))) ?? 0 }

    /// The value at (row, column) as text, or nil for SQL NULL.
    public func string(_ row: Int, _ column: Int) -> String? {
        guard row < rowCount, column < Int(PQnfields(result)), PQgetisnull(result, Int32(row), Int32(column)) == 0 else { return nil }
        return String(cString: PQgetvalue(result, Int32(row), Int32(column)))
    }

    public func int(_ row: Int, _ column: Int) -> Int? { string(row, column).flatMap { Int($0) } }

    public func double(_ row: Int, _ column: Int) -> Double? { string(row, column).flatMap { Double($0) } }

    public func bool(_ row: Int, _ column: Int) -> Bool? { string(row, column).map { $0 == "t" } }
}

extension QueryResult {
    /// One row, read by column name into typed values: a NULL or malformed value where one is required is
    /// an error naming the column, never a crash.
    public struct Row {
        let result: QueryResult
        public let index: Int

        /// The column's text, nil for SQL NULL; a column the statement does not have is an error.
        public func optionalString(_ column: String) throws -> String? {
            guard let position = result.columnIndex(column) else { throw PostgresError("the result has no column \(column)") }
            return result.string(index, position)
        }

        public func string(_ column: String) throws -> String {
            guard let value = try optionalString(column) else { throw PostgresError("column \(column) is NULL in row \(index + 1)") }
            return value
        }

        public func int(_ column: String) throws -> Int { try parse(column, Int.init) }
        public func double(_ column: String) throws -> Double { try parse(column, Double.init) }
        public func bool(_ column: String) throws -> Bool { try string(column) == "t" }
        /// An `integer` column (ids of users and items).
        public func int32(_ column: String) throws -> Int32 { try parse(column, Int32.init) }
        /// A `smallint` column (ids of event types).
        public func int16(_ column: String) throws -> Int16 { try parse(column, Int16.init) }

        /// nil for SQL NULL; a value that is not a number is an error.
        public func optionalInt(_ column: String) throws -> Int? { try optionalString(column) == nil ? nil : try int(column) }
        public func optionalDouble(_ column: String) throws -> Double? { try optionalString(column) == nil ? nil : try double(column) }

        /// A json/jsonb column decoded into `type` (snake_case keys).
        public func json<T: Decodable>(_ type: T.Type, _ column: String) throws -> T {
            let text = try string(column)
            do { return try JSONDecoder.snakeCase.decode(T.self, from: Data(text.utf8)) } catch {
                throw PostgresError("column \(column) does not hold a \(T.self): \(error)")
            }
        }

        /// A text column decoded through `init(rawValue:)`.
        public func value<T: RawRepresentable>(_ type: T.Type, _ column: String) throws -> T where T.RawValue == String {
            let text = try string(column)
            guard let value = T(rawValue: text) else { throw PostgresError("column \(column): '\(text)' is not a \(T.self)") }
            return value
        }

        private func parse<T>(_ column: String, _ make: (String) -> T?) throws -> T {
            let text = try string(column)
            guard let value = make(text) else { throw PostgresError("column \(column): '\(text)' is not a \(T.self)") }
            return value
        }
    }

    public var rows: [Row] { (0..<rowCount).map { Row(result: self, index: $0) } }

    /// The one row a statement such as `INSERT … RETURNING` or an aggregate gives; any other count is an
    /// error naming `what`.
    public func only(_ what: String) throws -> Row {
        guard rowCount == 1 else { throw PostgresError("\(what): expected one row, got \(rowCount)") }
        return Row(result: self, index: 0)
    }

    /// The first row, if any.
    public var first: Row? { rowCount > 0 ? Row(result: self, index: 0) : nil }

    /// The position of a column of the result by its name.
    public func columnIndex(_ name: String) -> Int? {
        let position = Int(PQfnumber(result, name))
        return position >= 0 ? position : nil
    }
}
