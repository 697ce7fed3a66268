/// Parsers over raw field bytes, so the ingest hot path never builds a `String` for a number or a time.
enum ByteParsing {
    /// Unix seconds at or above this are read as milliseconds (10^11 s is the year 5138).
    static let millisecondThreshold: Int64 = 100_000_000_000

    /// A timestamp as microseconds since the Unix epoch: Unix seconds or milliseconds (integer or
    /// decimal), or ISO-8601 (`2024-05-01`, `2024-05-01T12:30:00Z`, `2024-05-01 12:30:00.25+02:00`).
    /// Times without a zone are UTC. Nil when the text is none of these; `.some(nil)` when it is a time
    /// outside `IngestLimits.earliestMicros...latestMicros`.
    static func timestamp(_ field: UnsafeBufferPointer<UInt8>) -> Int64?? {
        let f = trimmed(field)
        guard !f.isEmpty else { return nil }
        let parsed = f.count >= 10 && f[4] == UInt8(ascii: "-") && f[7] == UInt8(ascii: "-") ? isoTimestamp(f) : unixTimestamp(f)
        return parsed.map { (IngestLimits.earliestMicros...IngestLimits.latestMicros).contains($0) ? $0 : nil }
    }

    /// Unix seconds (below 10¹¹) or milliseconds, at most 17 digits; a value beyond the time limits comes
    /// back as one just past them (never an overflow).
    private static func unixTimestamp(_ f: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        var negative = false
        if f[0] == UInt8(ascii: "-") { negative = true; i = 1 }
        var whole: Int64 = 0
        var digits = 0
        while i < f.count, let d = digit(f[i]) {
            if digits >= 17 { return nil }
            whole = whole * 10 + d; digits += 1; i += 1
        }
        guard digits > 0 else { return nil }
        var fractionMicros: Int64 = 0
        var scale: Int64 = 100_000
        if i < f.count, f[i] == UInt8(ascii: ".") {
            i += 1
            while i < f.count, let d = digit(f[i]) { fractionMicros += d * scale; scale /= 10; i += 1 }
        }
        guard i == f.count else { return nil }
        let limit = max(-IngestLimits.earliestMicros, IngestLimits.latestMicros) / 1_000 + 1
        let micros = whole >= millisecondThreshold ? min(whole, limit) * 1_000 + fractionMicros / 1_000 : whole * 1_000_000 + fractionMicros
        return negative ? -micros : micros
    }

    private static func isoTimestamp(_ f: UnsafeBufferPointer<UInt8>) -> Int64? {
        func number(_ at: Int, _ width: Int) -> Int64? {
            guard at + width <= f.count else { return nil }
            var v: Int64 = 0
            for k in at..<(at + width) { guard let d = digit(f[k]) else { return nil }; v = v * 10 + d }
            return v
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var seconds = daysFromCivil(year: year, month: month, day: day) * 86_400
        var micros: Int64 = 0
        var i = 10
        if i < f.count, f[i] == UInt8(ascii: "T") || f[i] == UInt8(ascii: " ") {
            guard let hour = number(i + 1, 2), f.count > i + 3, f[i + 3] == UInt8(ascii: ":"),
                  let minute = number(i + 4, 2), hour < 24, minute < 60 else { return nil }
            seconds += hour * 3600 + minute * 60
            i += 6
            if i < f.count, f[i] == UInt8(ascii: ":") {
                guard let second = number(i + 1, 2), second <= 60 else { return nil }
                seconds += second
                i += 3
                if i < f.count, f[i] == UInt8(ascii: ".") || f[i] == UInt8(ascii: ",") {
                    i += 1
                    var scale: Int64 = 100_000
                    let fractionStart = i
                    while i < f.count, let d = digit(f[i]) { micros += d * scale; scale /= 10; i += 1 }
                    if i == fractionStart { return nil }
                }
            }
            if i < f.count {
                if f[i] == UInt8(ascii: "Z") { i += 1 } else if f[i] == UInt8(ascii: "+") || f[i] == UInt8(ascii: "-") {
                    let sign: Int64 = f[i] == UInt8(ascii: "+") ? 1 : -1
                    guard let oh = number(i + 1, 2) else { return nil }
                    var om: Int64 = 0
                    i += 3
                    if i < f.count, f[i] == UInt8(ascii: ":") { i += 1 }
                    if i < f.count { guard let m = number(i, 2) else { return nil }; om = m; i += 2 }
                    seconds -= sign * (oh * 3600 + om * 60)
                }
            }
        }
        guard i == f.count else { return nil }
        return seconds * 1_000_000 + micros
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// A decimal number such as `4`, `-3.5` or `1e-3`; nil for anything else.
    static func float(_ field: UnsafeBufferPointer<UInt8>) -> Float? {
        let f = trimmed(field)
        guard !f.isEmpty, f.count < 64 else { return nil }
        var i = 0
        var negative = false
        if f[0] == UInt8(ascii: "-") || f[0] == UInt8(ascii: "+") { negative = f[0] == UInt8(ascii: "-"); i = 1 }
        var mantissa: Int64 = 0
        var digits = 0
        var exponent = 0
        while i < f.count, let d = digit(f[i]), digits < 18 { mantissa = mantissa * 10 + d; digits += 1; i += 1 }
        if i < f.count, f[i] == UInt8(ascii: ".") {
            i += 1
            while i < f.count, let d = digit(f[i]), digits < 18 { mantissa = mantissa * 10 + d; digits += 1; exponent -= 1; i += 1 }
        }
        if i < f.count || digits == 0 {  // exponents, long mantissas, inf/nan: let the standard parser decide
            let value = Float(String(decoding: f, as: UTF8.self))
            return value.flatMap { $0.isFinite ? $0 : nil }
        }
        let value = Double(mantissa) * pow10(exponent)
        return Float(negative ? -value : value)
    }

    private static func pow10(_ e: Int) -> Double {
        var r = 1.0
        for _ in 0..<(-e) { r /= 10 }
        return r
    }

    @inline(__always) static func digit(_ b: UInt8) -> Int64? {
        b &- 48 < 10 ? Int64(b &- 48) : nil
    }

    /// The field without leading and trailing ASCII spaces and tabs.
    @inline(__always) static func trimmed(_ f: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var lo = 0
        var hi = f.count
        while lo < hi, f[lo] == 0x20 || f[lo] == 0x09 { lo += 1 }
        while hi > lo, f[hi - 1] == 0x20 || f[hi - 1] == 0x09 { hi -= 1 }
        return UnsafeBufferPointer(rebasing: f[lo..<hi])
    }

    /// Whether the bytes are valid UTF-8 (a fast pass for plain ASCII first).
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var ascii = true
        for b in bytes where b >= 0x80 { ascii = false; break }
        return ascii || String(validating: bytes, as: UTF8.self) != nil
    }
}
