/// An error reported by libpq or the server, with the server's SQLSTATE when there is one.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let sqlState: String?

    public init(_ message: String, sqlState: String? = nil) {
        self.message = message.trimmingCharacters(in: .whitespacesAndNewlines)
        self.sqlState = sqlState
    }

    public var description: String {
        let text = sqlState.map { "\(message) [SQLSTATE \($0)]" } ?? message
        // 42P01 undefined_table: most often a database nobody has migrated yet.
        return sqlState == "42P01" ? text + "; if this database is new, run `pleat db migrate`" : text
    }
}

import Foundation
