/// An error reported by libpq or the server, with the server's SQLSTATE when there is one.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let sqlState: String?

    public init(_ message: String, sqlState: String? = nil) {
        self.message = message.trimmingCharacters(in: .whitespacesAndNewlines)
        self.sqlState = sqlState
    }

    public var description: String { sqlState.map { "\(message) [SQLSTATE \($0)]" } ?? message }
}

import Foundation
