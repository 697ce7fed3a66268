/// What every stored event satisfies, whoever brings it: a file's row through `pleat ingest`, or a
/// request's recent event through serving (`POST /v1/recommendations`). One rule for both, so an event a
/// request may carry is exactly one that ingest would store.
public enum EventRules {
    /// User, item and event type ids longer than this are refused: PostgreSQL's unique index on external
    /// ids holds at most about 2,700 bytes per entry, and ids of more than 1 KiB are corrupt in practice.
    public static let maxIdBytes = 1_024
    /// Event times from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z, in microseconds since the
    /// Unix epoch: four-digit years, inside PostgreSQL's timestamptz range.
    public static let earliestMicros: Int64 = -62_135_596_800 * 1_000_000
    public static let latestMicros: Int64 = 253_402_300_800 * 1_000_000 - 1
    /// The same range in whole Unix seconds.
    public static let seconds: ClosedRange<Int64> = (earliestMicros / 1_000_000)...(latestMicros / 1_000_000)

    /// Why an id cannot be stored.
    public enum IdProblem: Equatable, Sendable {
        case empty
        case tooLong(bytes: Int)
        /// U+0000-U+001F (other than tab, line feed and carriage return, which quoted CSV fields may
        /// hold) or U+007F: an id with one cannot be shown, typed or stored as text.
        case controlCharacter(UInt8)
    }

    /// Nil when `id` (UTF-8 bytes) can be stored as a user, item or event type id.
    public static func idProblem(_ id: UnsafeBufferPointer<UInt8>) -> IdProblem? {
        guard !id.isEmpty else { return .empty }
        guard id.count <= maxIdBytes else { return .tooLong(bytes: id.count) }
        if let control = id.first(where: { ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D) || $0 == 0x7F }) {
            return .controlCharacter(control)
        }
        return nil
    }

    /// `idProblem` of a string.
    public static func idProblem(_ id: String) -> IdProblem? {
        var id = id
        return id.withUTF8 { idProblem($0) }
    }
}
