import Foundation

/// The `pleat` binary run as a user runs it, in a child process: its exit status and what it printed.
public struct PleatCommand {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    /// Runs `pleat arguments…` with `databaseURL` (if any) as PLEAT_DATABASE_URL and `environment` on top
    /// of this process's, and waits for it.
    public static func run(_ arguments: [String], databaseURL: String? = nil, environment: [String: String] = [:],
                           in directory: URL? = nil) throws -> PleatCommand {
        let scratch = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("stdout"), err = scratch.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = TestDatabase.pleatExecutable
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let databaseURL { merged["PLEAT_DATABASE_URL"] = databaseURL }
        process.environment = merged
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return PleatCommand(status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
                            stderr: try String(contentsOf: err, encoding: .utf8))
    }
}
