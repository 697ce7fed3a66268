import Foundation

extension FileHandle {
    public struct TemporaryFileFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// A new, empty file in the temporary directory (`TMPDIR`), open for reading and writing and already
    /// unlinked: its space is freed when the handle is closed, and nothing is left behind however the
    /// process ends (a spool or log named on disk outlives a killed process). Not inherited by the
    /// programs this process starts.
    public static func unlinkedTemporary(prefix: String) throws -> FileHandle {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw TemporaryFileFailure(description: "cannot create a temporary file \(path): \(String(cString: strerror(errno)))")
        }
        unlink(path)
        return FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }
}
