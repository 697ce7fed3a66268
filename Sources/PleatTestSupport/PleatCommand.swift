import Foundation
import PleatCore

/// The `pleat` binary run as a user runs it, in a child process: its exit status and what it printed.
public struct PleatCommand {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    /// Runs `pleat arguments…` with `databaseURL` (if any) as PLEAT_DATABASE_URL and `environment` on top
    /// of this process's (the variables `unset` names emptied, which Pleat reads as unset), and waits
    /// for it (`Subprocess`: Foundation's `Process` can miss a quick child's exit).
    public static func run(_ arguments: [String], databaseURL: String? = nil, environment: [String: String] = [:],
                           unset: [String] = []) throws -> PleatCommand {
        var variables = environment
        for name in unset { variables[name] = "" }
        if let databaseURL { variables["PLEAT_DATABASE_URL"] = databaseURL }
        let outcome = try Subprocess.capture(TestDatabase.pleatExecutable.path, arguments, environment: variables, separateErrors: true)
        return PleatCommand(status: outcome.exitCode ?? -(outcome.signal ?? 0), stdout: outcome.output, stderr: outcome.errors)
    }
}
