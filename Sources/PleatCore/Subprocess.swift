import Foundation

/// Runs a program to completion with posix_spawn and waitpid.
///
/// Foundation's `Process.waitUntilExit` on Linux can miss a child's exit when called from inside a
/// lazy initializer (seen when the test suite starts its PostgreSQL), so Pleat waits on the pid itself.
public enum Subprocess {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// How a program ended, and what it printed (stdout and stderr together, or apart: `errors`).
    public struct Outcome: Sendable {
        /// The exit code, or nil when a signal ended it.
        public var exitCode: Int32?
        public var signal: Int32?
        public var output: String
        /// Its stderr, when captured apart (`separateErrors`); else empty.
        public var errors = ""

        public var succeeded: Bool { exitCode == 0 }
        public var how: String { exitCode.map { "exit \($0)" } ?? "signal \(signal ?? 0)" }
    }

    /// Runs `executable` with `arguments`; throws with its output when the exit status is not 0.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let outcome = try capture(executable, arguments, environment: environment)
        guard outcome.succeeded else {
            throw Failure(description: "\((executable as NSString).lastPathComponent) failed (\(outcome.how)): "
                          + outcome.output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return outcome.output
    }

    /// Runs `executable` with `arguments` and returns how it ended. stdin is /dev/null; stdout and stderr
    /// go to an unlinked temporary file whose text is returned. `environment` adds to (or replaces
    /// variables of) this process's environment. Throws only when the program cannot be started.
    /// `outputDescriptor`, when given, receives stdout and stderr instead (and `output` is empty).
    /// `separateErrors`: stderr goes to a file of its own, returned as `errors`.
    public static func capture(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                               outputDescriptor: Int32? = nil, separateErrors: Bool = false) throws -> Outcome {
        let captured: FileHandle?, target: Int32
        if let outputDescriptor {
            (captured, target) = (nil, outputDescriptor)
        } else {
            let file = try FileHandle.unlinkedTemporary(prefix: "pleat-sub")
            (captured, target) = (file, file.fileDescriptor)
        }
        defer { try? captured?.close() }
        let errorFile = separateErrors ? try FileHandle.unlinkedTemporary(prefix: "pleat-sub-err") : nil
        defer { try? errorFile?.close() }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, target, 1)
        if let errorFile { posix_spawn_file_actions_adddup2(&actions, errorFile.fileDescriptor, 2) } else { posix_spawn_file_actions_adddup2(&actions, 1, 2) }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var variables = ProcessInfo.processInfo.environment
        variables.merge(environment) { _, new in new }
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw Failure(description: "cannot run \(executable): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        func text(_ file: FileHandle?) -> String {
            guard let file, (try? file.seek(toOffset: 0)) != nil, let data = try? file.readToEnd() else { return "" }
            return String(decoding: data, as: UTF8.self)
        }
        let exited = status & 0x7f == 0
        return Outcome(exitCode: exited ? (status >> 8) & 0xff : nil, signal: exited ? nil : status & 0x7f, output: text(captured),
                       errors: text(errorFile))
    }
}
