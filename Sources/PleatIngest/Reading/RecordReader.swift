import Foundation
import PleatCore

/// Streams an input as records (lines, or CSV records whose quoted fields may span lines) in bounded
/// memory: one chunk-sized buffer, whatever the line lengths.
///
/// Records are handed out as buffers into the reader's chunk: valid only during the callback.
public final class RecordReader {
    /// One record as read: where it starts, how many physical lines it spans, and its bytes (without the
    /// final newline and a trailing `\r`); for a record longer than `IngestLimits.maxRecordBytes`, only its
    /// first `IngestLimits.keptBytesOfLongRecord` bytes, with `overlongBytes` giving its length.
    public struct Record {
        public let line: Int
        public let lineCount: Int
        public let bytes: UnsafeBufferPointer<UInt8>
        public let overlongBytes: Int?
    }

    let input: InputFile
    private let quoteAware: Bool
    private let chunkSize: Int
    let maxRecord: Int

    init(input: InputFile, quoteAware: Bool, chunkSize: Int = 4 << 20, maxRecord: Int = IngestLimits.maxRecordBytes) {
        precondition(chunkSize > maxRecord, "a whole record must fit in one chunk")
        self.input = input
        self.quoteAware = quoteAware
        self.chunkSize = chunkSize
        self.maxRecord = maxRecord
    }

    /// Calls `body` for every non-blank record (blank: only spaces and tabs). After each chunk, `chunk`
    /// gets the raw bytes read so far (progress).
    func forEachRecord(chunk: (Int) -> Void = { _ in }, _ body: (Record) throws -> Void) throws {
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: chunkSize)
        let kept = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: min(IngestLimits.keptBytesOfLongRecord, maxRecord))
        defer { buffer.deallocate(); kept.deallocate() }
        let base = UnsafePointer(buffer.start)
        var filled = 0          // valid bytes in buffer
        var line = 1            // line number of the next record's first line
        var atEOF = false
        // Inside a record longer than the limit: its line, its length so far and the bytes of its head kept.
        var overlong: (line: Int, length: Int, kept: Int)? = nil

        func newline(from: Int, within: Int) -> Int? {
            memchr(base + from, 0x0A, within).map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - base }
        }
        func endOverlong(_ o: (line: Int, length: Int, kept: Int), length: Int) throws {
            overlong = nil
            try body(Record(line: o.line, lineCount: 1, bytes: UnsafeBufferPointer(rebasing: kept[0..<o.kept]), overlongBytes: length))
            line = o.line + 1
        }

        while !atEOF {
            let n = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[filled...]))
            if n == 0 { atEOF = true } else { filled += n }
            var start = 0
            while start < filled {
                if let o = overlong {
                    guard let end = newline(from: start, within: filled - start) else {
                        overlong = (o.line, o.length + filled - start, o.kept)
                        start = filled
                        break
                    }
                    try endOverlong(o, length: o.length + end - start)
                    start = end + 1
                    continue
                }
                var end: Int?
                var newlines = 1
                if quoteAware {
                    end = Self.recordEnd(base, from: start, to: min(filled, start + maxRecord + 1), newlines: &newlines)
                    // Wait for the rest of a quoted record, unless it could not fit: then the line alone is the
                    // record (a stray quote must not swallow the file), and its unterminated quote is rejected.
                    if end == nil, filled - start <= maxRecord, !atEOF { break }
                }
                if end == nil {
                    newlines = 1
                    end = newline(from: start, within: min(filled - start, maxRecord + 1))
                }
                if let end {
                    try emit(base, start, end, line, newlines, body)
                    line += newlines
                    start = end + 1
                } else if filled - start > maxRecord {
                    // Longer than any record may be: keep its head for the rejection, drop the rest as it comes.
                    let head = min(maxRecord, kept.count)
                    _ = UnsafeMutableBufferPointer(rebasing: kept[0..<head]).initialize(from: UnsafeBufferPointer(start: base + start, count: head))
                    overlong = (line, 0, head)
                } else {
                    break  // an incomplete record: read on
                }
            }
            if atEOF {
                if let o = overlong { try endOverlong(o, length: o.length) } else if start < filled {
                    try emit(base, start, filled, line, 1, body)  // the last record, without a final newline
                }
                break
            }
            // Keep the incomplete tail for the next read.
            let tail = filled - start
            if tail > 0, start > 0 { memmove(buffer.start, buffer.start + start, tail) }
            filled = tail
            chunk(input.rawBytesRead)
        }
        chunk(input.rawBytesRead)
    }

    @inline(__always)
    private func emit(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ line: Int, _ lineCount: Int,
                      _ body: (Record) throws -> Void) throws {
        var stop = end
        if stop > start, base[stop - 1] == 0x0D { stop -= 1 }
        var blank = true
        for i in start..<stop where base[i] != 0x20 && base[i] != 0x09 { blank = false; break }
        if !blank {
            try body(Record(line: line, lineCount: lineCount, bytes: UnsafeBufferPointer(start: base + start, count: stop - start),
                            overlongBytes: nil))
        }
    }

    /// The index of the newline ending a CSV record that starts at `from`, skipping newlines inside
    /// quotes; nil when the record is not complete before `to`.
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
