import Foundation

/// Writes that survive a crash or a power cut at any moment: a file is written beside its final name,
/// flushed to disk (fsync), renamed over the final name, and the directory is flushed so that the rename
/// itself is on disk. A reader then finds the old file or the new one, whole, never a part.
public enum DurableFile {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Replaces `url` with `data`.
    public static func write(_ data: Data, to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data) else {
            throw Failure(description: "cannot write \(temporary.path): \(String(cString: strerror(errno)))")
        }
        try sync(temporary)
        try rename(temporary, to: url)
    }

    /// Renames `source` over `target` and flushes the directory entry.
    public static func rename(_ source: URL, to target: URL) throws {
        guard Foundation.rename(source.path, target.path) == 0 else {
            throw Failure(description: "cannot rename \(source.path) to \(target.path): \(String(cString: strerror(errno)))")
        }
        try sync(target.deletingLastPathComponent())
    }

    /// Flushes a file's data, or a directory's entries, to disk.
    public static func sync(_ url: URL) throws {
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(description: "cannot open \(url.path) to flush it: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Failure(description: "cannot flush \(url.path): \(String(cString: strerror(errno)))") }
    }

    /// Flushes every file of a directory, then the directory.
    public static func syncTree(_ directory: URL) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            let item = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: item.path, isDirectory: &isDirectory)
            if isDirectory.boolValue { try syncTree(item) } else { try sync(item) }
        }
        try sync(directory)
    }
}
