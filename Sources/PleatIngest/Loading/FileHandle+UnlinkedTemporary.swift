import Foundation

extension FileHandle {
    /// A new, empty file in the temporary directory, open for reading and writing and already unlinked:
    /// its space is freed when the handle is closed, and nothing is left behind however the process ends
    /// (a spool named on disk outlives a killed ingest).
    static func unlinkedTemporary(prefix: String) throws -> FileHandle {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw IngestError("cannot create a temporary file in \(file.deletingLastPathComponent().path)")
        }
        let handle = try FileHandle(forUpdating: file)
        try FileManager.default.removeItem(at: file)
        return handle
    }
}
