import Foundation

/// Event type names as a config gives them (`target_events`): a list (`["buy", "cart"]`) or one string
/// of names separated by commas, brackets optional (`buy`, `[buy, cart]`), so that a `key = value` line
/// and `--set` read as naturally as a JSON file. Stored as a list.
public struct EventNames: Sendable, Codable, Equatable, ExpressibleByArrayLiteral {
    public var names: [String]

    public init(_ names: [String]) { self.names = names }
    public init(arrayLiteral names: String...) { self.names = names }

    public init(from decoder: Decoder) throws {
        let value = try decoder.singleValueContainer()
        if let list = try? value.decode([String].self) {
            names = list
        } else {
            let text = try value.decode(String.self).trimmingCharacters(in: .whitespaces)
            let inner = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
            names = inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces.union(["\"", "'"])) }
        }
        names = names.filter { !$0.isEmpty }
        guard !names.isEmpty else {
            throw DecodingError.dataCorruptedError(in: value, debugDescription: "no event type named (give one or more, e.g. [buy])")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var value = encoder.singleValueContainer()
        try value.encode(names)
    }
}
