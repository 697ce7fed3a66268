/// Which columns (or JSON keys) hold each part of an interaction.
///
/// Nil fields fall back to the first common name present in the header (`user_id`, `user`, …), so
/// most files need no flags. The time column is required except for the `pairs` format; the event
/// and value columns are optional.
public struct ColumnMapping: Sendable, Codable, Equatable {
    public var user: String?
    public var item: String?
    public var time: String?
    public var event: String?
    public var value: String?
    /// The item metadata column (or JSON key) whose value is the item's category, the default fold key
    /// (e.g. `brand`); nil: the first of `category`, `genre`, `genres`, ….
    public var category: String?

    public init(user: String? = nil, item: String? = nil, time: String? = nil, event: String? = nil, value: String? = nil,
                category: String? = nil) {
        self.user = user; self.item = item; self.time = time; self.event = event; self.value = value; self.category = category
    }

    static let userNames = ["user_id", "user", "userid", "uid", "visitor_id", "visitorid", "customer_id", "session_id"]
    static let itemNames = ["item_id", "item", "itemid", "iid", "product_id", "movie_id", "movieid", "article_id"]
    static let timeNames = ["timestamp", "time", "ts", "occurred_at", "datetime", "event_time", "date"]
    static let eventNames = ["event_type", "event", "action", "behavior", "behaviour", "type"]
    static let valueNames = ["value", "rating", "score", "weight"]

    /// Column positions resolved against a header.
    struct Resolved {
        var user: Int
        var item: Int
        var time: Int?
        var event: Int?
        var value: Int?
        var fieldCount: Int
        var names: [String]
        var eventNameFromValueColumn: String?
    }

    /// Resolves the mapping against header names (RecBole's `name:type` suffixes are ignored).
    func resolve(header: [String], needsTime: Bool, file: String) throws -> Resolved {
        let names = header.map { name -> String in
            let bare = name.split(separator: ":", maxSplits: 1).first.map(String.init) ?? name
            return bare.trimmingCharacters(in: .whitespaces)
        }
        let lowered = names.map { $0.lowercased() }
        func find(_ explicit: String?, _ defaults: [String], _ role: String) throws -> Int? {
            if let explicit {
                guard let index = names.firstIndex(of: explicit) ?? lowered.firstIndex(of: explicit.lowercased()) else {
                    throw IngestError("\(file): no column named '\(explicit)' for the \(role) (columns: \(names.joined(separator: ", ")))")
                }
                return index
            }
            return defaults.lazy.compactMap({ lowered.firstIndex(of: $0) }).first
        }
        func missing(_ role: String) -> IngestError {
            IngestError("\(file): cannot tell which column holds the \(role) (columns: \(names.joined(separator: ", "))); name it with --\(role)-col")
        }
        guard let user = try find(self.user, Self.userNames, "user") else { throw missing("user") }
        guard let item = try find(self.item, Self.itemNames, "item") else { throw missing("item") }
        let time = try find(self.time, Self.timeNames, "time")
        if needsTime && time == nil { throw missing("time") }
        let event = try find(self.event, Self.eventNames, "event")
        let value = try find(self.value, Self.valueNames, "value")
        let valueName = value.map { lowered[$0] }
        return Resolved(user: user, item: item, time: time, event: event, value: value, fieldCount: names.count,
                        names: names, eventNameFromValueColumn: valueName == "rating" ? "rating" : nil)
    }
}

import Foundation
