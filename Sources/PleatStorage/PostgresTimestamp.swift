/// PostgreSQL's binary `timestamptz`: microseconds since 2000-01-01 00:00 UTC, which the binary COPY
/// streams write and read (`CopyInWriter`, `HistoryLoader`).
public enum PostgresTimestamp {
    /// 2000-01-01 in Unix microseconds.
    static let epochOffsetMicros: Int64 = 946_684_800 * 1_000_000

    /// The binary value of a time given in Unix microseconds.
    @inline(__always) public static func binary(unixMicros: Int64) -> Int64 { unixMicros - epochOffsetMicros }

    /// SQL for the Unix second (rounded down, as `unixSeconds(binary:)`) of a `timestamptz` expression:
    /// the one conversion queries that return seconds use, so that a second read by a query (a user's
    /// newest event) equals the one the COPY streams give for the same event.
    static func unixSecondSQL(_ expression: String) -> String { "floor(extract(epoch FROM \(expression)))::bigint" }

    /// The Unix second (rounded down, also before 1970) of a binary value.
    @inline(__always) public static func unixSeconds(binary: Int64) -> Int64 {
        let micros = binary + epochOffsetMicros
        return micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
    }
}
