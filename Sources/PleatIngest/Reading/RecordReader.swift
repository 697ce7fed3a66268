import Foundation

/// Streams a file as records (lines, or CSV records whose quoted fields may span lines) without
/// holding more than one chunk in memory.
///
/// Records are handed out as buffers into the reader's chunk: valid only during the callback.
final class RecordReader {
    let path: String
    private let quoteAware: Bool
    private let chunkSize: Int
    private(set) var bytesRead = 0
    /// A quoted CSV field may span lines, but not more than this many bytes.
    static let maxQuotedSpan = 1 << 20

    init(path: String, quoteAware: Bool, chunkSize: Int = 4 << 20) {
        self.path = path
        self.quoteAware = quoteAware
        self.chunkSize = chunkSize
    }

    /// Calls `body(lineNumber, record)` for every non-blank record; `lineNumber` is 1-based and names
    /// the physical line where the record starts. Trailing `\r` is removed. Every `chunk` callback
    /// reports progress in bytes.
    func forEachRecord(chunk: (Int) -> Void = { _ in },
                       _ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw IngestError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }

        var buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: chunkSize)
        defer { buffer.deallocate() }
        var filled = 0          // valid bytes in buffer
        var line = 1            // line number of the next record's first line
        var atEOF = false

        while !atEOF {
            if filled == buffer.count {  // one record longer than the buffer: grow it
                let bigger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: buffer.count * 2)
                _ = bigger.initialize(from: buffer)
                buffer.deallocate()
                buffer = bigger
            }
            let n = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            guard n >= 0 else { throw IngestError("read error in \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { atEOF = true } else {
                bytesRead += n
                filled += n
            }
            let base = UnsafePointer(buffer.baseAddress!)
            var start = 0
            while start < filled {
                var end: Int
                var newlines = 1
                if quoteAware, let found = Self.recordEnd(base, from: start, to: filled, newlines: &newlines) {
                    end = found
                } else if quoteAware, filled - start < Self.maxQuotedSpan, !atEOF {
                    break  // wait for the rest of a quoted record
                } else {
                    // Plain lines; also where a stray quote would swallow the rest of the file: the line
                    // alone becomes the record, and the field splitter rejects its unterminated quote.
                    newlines = 1
                    guard let hit = memchr(base + start, 0x0A, filled - start) else { break }
                    end = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
                }
                try emit(base, start, end, line, body)
                line += newlines
                start = end + 1
            }
            if atEOF, start < filled {  // last record without a final newline
                try emit(base, start, filled, line, body)
                start = filled
            }
            // Keep the incomplete tail for the next read.
            let tail = filled - start
            if tail > 0, start > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + start, tail) }
            filled = tail
            chunk(bytesRead)
        }
    }

    @inline(__always)
    private func emit(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ line: Int,
                      _ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        var stop = end
        if stop > start, base[stop - 1] == 0x0D { stop -= 1 }
        var blank = true
        for i in start..<stop where base[i] != 0x20 && base[i] != 0x09 { blank = false; break }
        if !blank { try body(line, UnsafeBufferPointer(start: base + start, count: stop - start)) }
    }

    /// The index of the newline ending a CSV record that starts at `from`, skipping newlines inside
    /// quotes; nil when the record is not complete in the buffer yet.
    private static func recordEnd(_ base: UnsafePointer<UInt8>, from: Int, to: Int, newlines: inout Int) -> Int? {
        var inQuotes = false
        newlines = 1
        var i = from
        while i < to {
            let byte = base[i]
            if byte == 0x22 { inQuotes.toggle() } else if byte == 0x0A {
                if !inQuotes { return i }
                newlines += 1
            }
            i += 1
        }
        return nil
    }
}
