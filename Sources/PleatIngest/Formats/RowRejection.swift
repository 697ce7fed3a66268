/// Why one row could not be loaded. The row is kept in `rejected_rows` with this reason.
public struct RowRejection: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case wrongColumnCount = "wrong column count"
        case missingField = "missing field"
        case emptyId = "empty id"
        case badTime = "unparsable time"
        case badValue = "unparsable value"
        case invalidUTF8 = "invalid UTF-8"
        case badJSON = "invalid JSON"
        case unterminatedQuote = "unterminated quote"
    }

    public let kind: Kind
    public let detail: String

    /// The stored reason: the kind, then the specifics.
    public var reason: String { detail.isEmpty ? kind.rawValue : "\(kind.rawValue): \(detail)" }

    init(_ kind: Kind, _ detail: String = "") { self.kind = kind; self.detail = detail }
}
