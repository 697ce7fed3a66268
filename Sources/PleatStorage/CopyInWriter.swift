import CLibPQ

/// Sends COPY data to the server in large chunks, so that per-row calls into libpq stay off the hot path.
///
/// For `COPY … (FORMAT binary)` it also encodes rows: call `binaryHeader()` once, then for each row
/// `beginRow(fields:)` followed by one value call per field, in column order. The same encoder can
/// write to any sink, e.g. a spool file that is sent later.
public final class CopyInWriter {
    public typealias Sink = (UnsafeRawBufferPointer) throws -> Void
    private let sink: Sink
    private var buffer: [UInt8] = []
    private let chunkSize = 1 << 18

    public init(sink: @escaping Sink) {
        self.sink = sink
        buffer.reserveCapacity(chunkSize + 65_536)
    }

    convenience init(handle: OpaquePointer) {
        self.init(sink: { bytes in
            let status = PQputCopyData(handle, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
            guard status == 1 else { throw PostgresError("COPY send failed: \(String(cString: PQerrorMessage(handle)))") }
        })
    }

    /// Appends raw bytes (text-format COPY lines, for instance).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes.bindMemory(to: UInt8.self))
        try flushIfFull()
    }

    public func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        try flushIfFull()
    }

    // MARK: Binary format

    private static let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]

    public func binaryHeader() {
        buffer += Self.signature
        appendBigEndian(Int32(0))  // flags
        appendBigEndian(Int32(0))  // header extension length
    }

    @inline(__always) public func beginRow(fields: Int16) throws {
        try flushIfFull()
        appendBigEndian(fields)
    }

    @inline(__always) public func int16(_ value: Int16) { appendBigEndian(Int32(2)); appendBigEndian(value) }
    @inline(__always) public func int32(_ value: Int32) { appendBigEndian(Int32(4)); appendBigEndian(value) }
    @inline(__always) public func int64(_ value: Int64) { appendBigEndian(Int32(8)); appendBigEndian(value) }
    @inline(__always) public func float4(_ value: Float) { appendBigEndian(Int32(4)); appendBigEndian(value.bitPattern) }
    @inline(__always) public func null() { appendBigEndian(Int32(-1)) }

    /// A `timestamptz` given as microseconds since the Unix epoch.
    @inline(__always) public func timestamp(unixMicros: Int64) {
        int64(PostgresTimestamp.binary(unixMicros: unixMicros))
    }

    /// `text` or `bytea` field contents (the server validates text as UTF-8).
    @inline(__always) public func bytes(_ value: UnsafeRawBufferPointer) {
        appendBigEndian(Int32(value.count))
        buffer.append(contentsOf: value.bindMemory(to: UInt8.self))
    }

    public func text(_ value: String) {
        var copy = value
        copy.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    /// A one-dimensional `text[]`.
    public func textArray(_ values: [String]) {
        let payload = values.reduce(12 + (values.isEmpty ? 0 : 8)) { $0 + 4 + $1.utf8.count }
        appendBigEndian(Int32(payload))
        appendBigEndian(Int32(values.isEmpty ? 0 : 1))  // dimensions
        appendBigEndian(Int32(0))                       // no NULL elements
        appendBigEndian(Int32(25))                      // element type: text
        if !values.isEmpty {
            appendBigEndian(Int32(values.count))
            appendBigEndian(Int32(1))                   // lower bound
        }
        for value in values { text(value) }
    }

    public func binaryTrailer() { appendBigEndian(Int16(-1)) }

    @inline(__always) private func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { buffer.append(contentsOf: $0) }
    }

    @inline(__always) private func flushIfFull() throws {
        if buffer.count >= chunkSize { try flushBuffer() }
    }

    /// Hands everything buffered to the sink.
    public func flushBuffer() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try sink($0) }
        buffer.removeAll(keepingCapacity: true)
    }
}
