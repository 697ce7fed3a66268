import Foundation

/// ISO 8601 UTC times with milliseconds (`2026-12-07T21:30:00.123Z`), as answers and logs print them.
/// Thread-safe and without a formatter object: a server formats one per request.
public enum UTCTimestamp {
    public static func string(_ unixSeconds: Double) -> String {
        var whole = time_t(unixSeconds.rounded(.down))
        var millis = Int(((unixSeconds - Double(whole)) * 1_000).rounded())
        if millis == 1_000 { whole += 1; millis = 0 }
        var parts = tm()
        gmtime_r(&whole, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    /// Now.
    public static var now: String { string(Date().timeIntervalSince1970) }
}
