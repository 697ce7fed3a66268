import PleatCore

/// Splits one record into fields without copying, except for quoted CSV fields, whose unescaped
/// contents go to a scratch buffer.
final class FieldSplitter {
    enum Separator: Sendable, Equatable {
        /// One byte; `quoted` enables RFC 4180 double quotes (CSV).
        case byte(UInt8, quoted: Bool)
        /// MovieLens `ratings.dat`.
        case doubleColon
        /// Runs of spaces or tabs (`u.data`, plain `user item` pairs).
        case whitespace
    }

    let separator: Separator
    /// Field contents, valid until the next `split`.
    private(set) var fields: [UnsafeBufferPointer<UInt8>] = []
    private var scratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 4096)

    init(_ separator: Separator) {
        self.separator = separator
        fields.reserveCapacity(32)
    }

    deinit { scratch.deallocate() }

    /// Splits `record`; false when a quote is not closed.
    func split(_ record: UnsafeBufferPointer<UInt8>) -> Bool {
        fields.removeAll(keepingCapacity: true)
        let base = record.start
        let n = record.count
        switch separator {
        case .byte(let sep, let quoted):
            if quoted, memchr(base, 0x22, n) != nil { return splitQuoted(record, sep) }
            var start = 0
            while let hit = memchr(base + start, Int32(sep), n - start) {
                let end = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
                fields.append(UnsafeBufferPointer(start: base + start, count: end - start))
                start = end + 1
            }
            fields.append(UnsafeBufferPointer(start: base + start, count: n - start))
        case .doubleColon:
            var start = 0
            var i = 0
            while i + 1 < n {
                if base[i] == 0x3A, base[i + 1] == 0x3A {
                    fields.append(UnsafeBufferPointer(start: base + start, count: i - start))
                    i += 2; start = i
                } else { i += 1 }
            }
            fields.append(UnsafeBufferPointer(start: base + start, count: n - start))
        case .whitespace:
            var i = 0
            while i < n {
                while i < n, base[i] == 0x20 || base[i] == 0x09 { i += 1 }
                let start = i
                while i < n, base[i] != 0x20 && base[i] != 0x09 { i += 1 }
                if i > start { fields.append(UnsafeBufferPointer(start: base + start, count: i - start)) }
            }
        }
        return true
    }

    /// RFC 4180: fields may be wrapped in double quotes, inside which `""` is one quote and separators
    /// and newlines are data.
    private func splitQuoted(_ record: UnsafeBufferPointer<UInt8>, _ sep: UInt8) -> Bool {
        if scratch.count < record.count {
            scratch.deallocate()
            scratch = .allocate(capacity: record.count * 2)
        }
        var out = 0
        var i = 0
        let n = record.count
        var starts: [Int] = []
        var ends: [Int] = []
        while true {
            let fieldStart = out
            if i < n, record[i] == 0x22 {
                i += 1
                var closed = false
                while i < n {
                    if record[i] == 0x22 {
                        if i + 1 < n, record[i + 1] == 0x22 { scratch[out] = 0x22; out += 1; i += 2; continue }
                        i += 1; closed = true; break
                    }
                    scratch[out] = record[i]; out += 1; i += 1
                }
                if !closed { return false }
                // Anything between the closing quote and the separator is kept as is.
                while i < n, record[i] != sep { scratch[out] = record[i]; out += 1; i += 1 }
            } else {
                while i < n, record[i] != sep { scratch[out] = record[i]; out += 1; i += 1 }
            }
            starts.append(fieldStart); ends.append(out)
            if i >= n { break }
            i += 1  // the separator
        }
        let base = UnsafePointer(scratch.start)
        for (s, e) in zip(starts, ends) { fields.append(UnsafeBufferPointer(start: base + s, count: e - s)) }
        return true
    }
}

import Foundation
