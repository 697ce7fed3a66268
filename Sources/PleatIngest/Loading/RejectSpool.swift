import Foundation
import PleatCore
import PleatStorage

/// Rejected rows of a batch, spooled to a temporary file in binary COPY format so that memory does not
/// grow with their number, then stored in `rejected_rows` in one COPY.
final class RejectSpool {
    private let handle: FileHandle
    private let writer: CopyInWriter
    private let batch: Int32
    private(set) var count = 0
    private(set) var byKind: [RowRejection.Kind: Int] = [:]
    /// The first rejected rows, for the report (every one is stored).
    private(set) var first: [IngestReport.RejectedRow] = []

    init(batch: Int) throws {
        self.batch = Int32(batch)
        let handle = try FileHandle.unlinkedTemporary(prefix: "pleat-rejects")
        self.handle = handle
        writer = CopyInWriter(sink: { try handle.write(contentsOf: Data($0)) })
        writer.binaryHeader()
    }

    func add(source: String, line: Int, raw: UnsafeBufferPointer<UInt8>, rejection: RowRejection) throws {
        count += 1
        byKind[rejection.kind, default: 0] += 1
        if first.count < IngestReport.RejectedRow.shown {
            let text = String(decoding: raw.prefix(IngestReport.RejectedRow.rawBytesShown), as: UTF8.self).trimmingCharacters(in: .newlines)
            first.append(.init(source: source, line: line, reason: rejection.reason, raw: text))
        }
        try RejectedRowTable.append(to: writer, batch: batch, source: source, line: line, raw: UnsafeRawBufferPointer(raw), reason: rejection.reason)
    }

    func store(into db: PostgresConnection) throws {
        writer.binaryTrailer()
        try writer.flushBuffer()
        guard count > 0 else { return }
        try handle.seek(toOffset: 0)
        try RejectedRowTable.copy(from: handle, into: db)
    }
}
