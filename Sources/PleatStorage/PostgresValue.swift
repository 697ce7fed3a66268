import Foundation
import PleatCore

/// A statement parameter (`$1`, `$2`, …), typed on the Swift side as `SQLiteValue` is for SQLite.
/// libpq is given each as text, which the server parses as the parameter's type (the statement casts
/// where it cannot infer one, e.g. `$1::text[]`), so a number or an array is never formatted by hand at
/// a call site.
public enum PostgresValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case text(String)
    /// A one-dimensional `text[]`.
    case textArray([String])

    public static func int(_ value: Int) -> PostgresValue { .int(Int64(value)) }
    public static func int(_ value: Int32) -> PostgresValue { .int(Int64(value)) }

    /// A `json`/`jsonb` parameter (cast with `$n::jsonb`): the value's JSON, keys snake_case.
    public static func json<T: Encodable>(_ value: T) throws -> PostgresValue {
        .text(String(decoding: try JSONEncoder.snakeCase().encode(value), as: UTF8.self))
    }

    /// `.text`, or `.null` for nil.
    public static func text(_ value: String?) -> PostgresValue { value.map { .text($0) } ?? .null }

    /// The text form libpq sends, nil for NULL.
    var wireText: String? {
        switch self {
        case .null: nil
        case .int(let v): String(v)
        case .double(let v): v.isFinite ? String(v) : (v.isNaN ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"))
        case .bool(let v): v ? "t" : "f"
        case .text(let v): v
        case .textArray(let values): PostgresArray.text(values)
        }
    }
}

extension PostgresValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(nilLiteral: ()) { self = .null }
}
