/// Reads an interaction input: the header, if the format has one, then each non-blank record becomes
/// exactly one event or one rejection (`sequences`: one event per item, or one rejection), carrying the
/// record's first line number.
///
/// No database here: the ingest maps ids and stores events; the fuzz targets check the accounting.
public final class InteractionReader {
    public let input: InputFile
    let parser: EventParser
    private let reader: RecordReader
    /// Data records seen (not the header).
    public private(set) var rowsRead = 0

    /// `chunkSize` and `maxRecord` are the reader's buffer and record limit: the ingest's defaults, or
    /// small ones that let a fuzzer reach the long-record paths.
    public init(input: InputFile, format: InteractionFormat, mapping: ColumnMapping = ColumnMapping(), chunkSize: Int = 4 << 20,
                maxRecord: Int = IngestLimits.maxRecordBytes) {
        self.input = input
        parser = EventParser(format: format, mapping: mapping, file: input.name)
        reader = RecordReader(input: input, quoteAware: format == .csv, chunkSize: chunkSize, maxRecord: maxRecord)
    }

    /// The event type of rows without an event column (known once the header is read).
    public var defaultEvent: String { parser.defaultEvent }

    /// Reads to the end. `event` may still turn a valid row down (say, past a limit of the database) by
    /// returning a rejection. Throws only for the input as a whole: unreadable, a bad header, or corrupt
    /// compressed data; `observe` sees every record first (the fuzz targets count them).
    public func read(progress: (Int) -> Void = { _ in }, observe: ((RecordReader.Record) -> Void)? = nil,
              event: (Int, EventFields) throws -> RowRejection?,
              reject: (Int, UnsafeBufferPointer<UInt8>, RowRejection) throws -> Void) throws {
        var pendingHeader = parser.needsHeader
        try reader.forEachRecord(chunk: progress) { record in
            observe?(record)
            if pendingHeader {
                pendingHeader = false
                if let length = record.overlongBytes {
                    throw IngestError("\(input.name): the header line is \(length) bytes, longer than \(reader.maxRecord)")
                }
                try parser.readHeader(record.bytes)
                return
            }
            rowsRead += 1
            if let length = record.overlongBytes {
                let rejection = RowRejection(.recordTooLong, "\(length) bytes (limit \(reader.maxRecord)); the first "
                                             + "\(record.bytes.count) are kept")
                try reject(record.line, record.bytes, rejection)
                return
            }
            if let rejection = try parser.parse(line: record.line, record: record.bytes, { try event(record.line, $0) }) {
                try reject(record.line, record.bytes, rejection)
            }
        }
        if pendingHeader { throw IngestError("\(input.name) is empty: no header line") }
    }
}
