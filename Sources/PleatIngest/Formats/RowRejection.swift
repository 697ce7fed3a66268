import Foundation
import PleatStorage

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
    /// An id (or event type name) that `EventRules` refuses, with its role and column.
    public static func forId(_ id: UnsafeBufferPointer<UInt8>, _ role: String, column: String) -> RowRejection? {
        switch EventRules.idProblem(id) {
        case nil: nil
        case .empty: Self(.emptyId, "\(role) in column \(column)")
        case .tooLong(let bytes): Self(.idTooLong, "\(role) of \(bytes) bytes in column \(column) (limit \(IngestLimits.maxIdBytes))")
        case .controlCharacter(let control): Self(.controlCharacter, String(format: "U+%04X in the %@ (column %@)", Int(control), role, column))
        }
    }
}
