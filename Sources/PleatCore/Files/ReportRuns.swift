import Foundation

/// One directory per run under a parent (`reports/demo/20261207-194500`), the newest linked as
/// `latest`, so that a run never overwrites the one before it and the newest is always at one path.
public enum ReportRuns {
    /// The name of the link to the newest run.
    public static let latest = "latest"

    /// A new directory for a run now: `parent/<compact timestamp>` (`-2`, `-3`, … when a run of the same
    /// second exists). Not created.
    public static func next(in parent: URL, now: Date = Date()) -> URL {
        let stamp = Format.compactTimestamp(now)
        var candidate = parent.appendingPathComponent(stamp), n = 1
        while FileManager.default.fileExists(atPath: candidate.path) {
            n += 1
            candidate = parent.appendingPathComponent("\(stamp)-\(n)")
        }
        return candidate
    }

    /// Points `parent/latest` at `run` (a directory in `parent`), replacing the link in one rename.
    public static func markLatest(_ run: URL) throws {
        let parent = run.deletingLastPathComponent(), staged = parent.appendingPathComponent(".\(latest)-\(getpid())")
        try? FileManager.default.removeItem(at: staged)
        try FileManager.default.createSymbolicLink(atPath: staged.path, withDestinationPath: run.lastPathComponent)
        guard rename(staged.path, parent.appendingPathComponent(latest).path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: parent.appendingPathComponent(latest).path])
        }
    }
}
