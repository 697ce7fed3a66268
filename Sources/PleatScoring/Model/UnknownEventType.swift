/// A request asked for a behaviour the database has no event type for: the asker's mistake (HTTP 400,
/// exit 1 with the names it has), not a failure of scoring.
public struct UnknownEventType: Error, CustomStringConvertible, Sendable {
    public let name: String
    /// The event type names the database has, sorted.
    public let known: [String]

    public var description: String {
        "no event type '\(name)' in this database"
            + (known.isEmpty ? " (its events have no types; ingest with --event-col)" : " (it has: \(known.joined(separator: ", ")))")
    }
}
