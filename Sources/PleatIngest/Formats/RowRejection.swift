/// Why one row could not be loaded. The row is kept in `rejected_rows` with this reason.
public struct RowRejection: Error, Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Codable, CodingKeyRepresentable {
        case wrongColumnCount = "wrong column count"
        case missingField = "missing field"
        case emptyId = "empty id"
        case badTime = "unparsable time"
        case badValue = "unparsable value"
        case invalidUTF8 = "invalid UTF-8"
        case badJSON = "invalid JSON"
        case unterminatedQuote = "unterminated quote"
        case nulByte = "NUL byte"
        case controlCharacter = "control character"
        case idTooLong = "id too long"
        case recordTooLong = "line too long"
        case timeOutOfRange = "time out of range"
        case tooManyEventTypes = "too many event types"
        case tooManyIds = "too many ids"
        case duplicateUser = "user on a second line"
    }

    public let kind: Kind
    public let detail: String

    /// The stored reason: the kind, then the specifics.
    public var reason: String { detail.isEmpty ? kind.rawValue : "\(kind.rawValue): \(detail)" }

    init(_ kind: Kind, _ detail: String = "") { self.kind = kind; self.detail = detail }
}

extension RowRejection {
    /// An id (or event type name) must be non-empty, at most `IngestLimits.maxIdBytes` long, and free of
    /// control characters other than tab, line feed and carriage return (which quoted CSV fields may
    /// hold): an id with U+0000-U+001F or U+007F cannot be shown, typed or stored as text.
    public static func forId(_ id: UnsafeBufferPointer<UInt8>, _ role: String, column: String) -> RowRejection? {
        guard !id.isEmpty else { return Self(.emptyId, "\(role) in column \(column)") }
        guard id.count <= IngestLimits.maxIdBytes else {
            return Self(.idTooLong, "\(role) of \(id.count) bytes in column \(column) (limit \(IngestLimits.maxIdBytes))")
        }
        if let control = id.first(where: { ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D) || $0 == 0x7F }) {
            return Self(.controlCharacter, String(format: "U+%04X in the %@ (column %@)", Int(control), role, column))
        }
        return nil
    }
}
