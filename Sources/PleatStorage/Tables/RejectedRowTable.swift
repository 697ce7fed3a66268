import Foundation

/// The `rejected_rows` table: every row an ingest batch could not load, with its line and reason. Rows
/// arrive as a binary COPY stream (spooled by the ingest, so memory does not grow with their number).
public enum RejectedRowTable {
    /// Appends one row to a binary COPY stream of this table.
    public static func append(to writer: CopyInWriter, batch: Int32, source: String, line: Int, raw: UnsafeRawBufferPointer,
                              reason: String) throws {
        try writer.beginRow(fields: 5)
        writer.int32(batch)
        writer.text(source)
        writer.int64(Int64(line))
        writer.bytes(raw)
        writer.text(reason)
    }

    /// Stores a complete stream of `append`ed rows (header to trailer) read from `handle`.
    public static func copy(from handle: FileHandle, into db: PostgresConnection) throws {
        _ = try db.copyIn("COPY rejected_rows (batch_id, source, line_number, raw, reason) FROM STDIN (FORMAT binary)", from: handle)
    }
}
