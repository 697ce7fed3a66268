extension FoldKeys: Codable {
    /// The frozen key table as an artifact stores it: `{"key_count": K, "item_keys": [...]}` (model index →
    /// key, 0: not folded) or `{"key_count": K, "window_seconds": S}`; `names` gives a per-item key its name
    /// (the category), where there is one.
    private struct Table: Codable {
        var keyCount: Int
        var itemKeys: [Int32]?
        var windowSeconds: Int64?
        var names: [String]?
    }

    public init(from decoder: Decoder) throws {
        let table = try Table(from: decoder)
        if let keys = table.itemKeys {
            guard keys.allSatisfy({ $0 >= 0 && Int($0) <= table.keyCount }) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a fold key past key_count \(table.keyCount)"))
            }
            self = .perItem(keys, count: table.keyCount, names: table.names)
        } else if let seconds = table.windowSeconds {
            self = .timeWindow(seconds: seconds, count: table.keyCount)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "fold keys need item_keys or window_seconds"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .perItem(let keys, let count, let names): try Table(keyCount: count, itemKeys: keys, names: names).encode(to: encoder)
        case .timeWindow(let seconds, let count): try Table(keyCount: count, windowSeconds: seconds).encode(to: encoder)
        }
    }
}
