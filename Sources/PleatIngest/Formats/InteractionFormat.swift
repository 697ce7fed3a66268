/// The interaction log formats `pleat ingest` reads.
public enum InteractionFormat: String, CaseIterable, Sendable, Codable {
    /// Comma-separated with a header row; RFC 4180 quoting.
    case csv
    /// Tab-separated with a header row.
    case tsv
    /// One JSON object per line.
    case jsonl
    /// MovieLens `ratings.dat` (`user::item::rating::time`) or `u.data` (tab-separated, same columns).
    case movielens
    /// RecBole atomic `.inter` file: tab-separated, typed header such as `user_id:token`.
    case recbole
    /// Plain `user item` lines in chronological order, no time column: file order is the time order.
    case pairs
    /// One user per line, `user item item …`, whitespace-separated, items in the order they happened and
    /// no times: item j of a line (j = 1, 2, …) gets ordinal time j (second j of 1970). A user may have one
    /// line only; a later line for the same user is rejected, naming the first.
    case sequences

    /// Whether the first record names the columns.
    var hasHeader: Bool { [.csv, .tsv, .recbole].contains(self) }

    /// Whether times come from the line number rather than a column.
    var usesOrdinalTime: Bool { self == .pairs || self == .sequences }

    /// Whether one record holds many events (a user's whole sequence) rather than one.
    public var eventsPerRecord: EventsPerRecord { self == .sequences ? .many : .one }

    public enum EventsPerRecord: Sendable { case one, many }

    /// The format a file name's extension names (`.csv`, `.tsv`, `.jsonl`, `.inter`, each also with
    /// `.gz` or `.zst`); nil for others (`.dat`, `.txt`: several formats use them) and for standard input.
    public static func inferred(fromFileName name: String) -> InteractionFormat? {
        var parts = name.lowercased().split(separator: "/").last?.split(separator: ".").map(String.init) ?? []
        if let last = parts.last, ["gz", "zst"].contains(last) { parts.removeLast() }
        guard parts.count >= 2, let ext = parts.last else { return nil }
        switch ext {
        case "csv": return .csv
        case "tsv": return .tsv
        case "jsonl", "ndjson": return .jsonl
        case "inter": return .recbole
        default: return nil
        }
    }
}
