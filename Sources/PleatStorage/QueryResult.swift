import CLibPQ

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
