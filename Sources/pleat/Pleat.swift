import ArgumentParser
import Foundation
import PleatCore

@main
struct Pleat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pleat",
        abstract: "Sequential recommendation: ingest interaction logs, train sequence encoders, score and evaluate.",
        version: PleatVersion.description,
        subcommands: [DB.self, Doctor.self, Ingest.self, Stats.self, Synth.self, Train.self, Models.self, Score.self, Recommend.self, Serve.self, Evaluate.self, Export.self, Run.self, Jobs.self, Bench.self])

    /// Parses, then runs. A mistake in the arguments (found while parsing and validating) prints the
    /// command's usage and exits 64; an error while running prints one line, `Error: …`, and exits 1,
    /// since the arguments were fine and their usage would only bury the reason. Commands that end
    /// with their own status (`ExitCode`, e.g. ingest's 3 and 4) keep it.
    ///
    /// With `PLEAT_PARSE_ONLY=1` in the environment it stops after parsing and validating (exit 0), so
    /// the commands of unit files, crontabs and scripts can be checked without running them.
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        if ProcessInfo.processInfo.environment["PLEAT_PARSE_ONLY"] == "1" { return }
        do {
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as ExitCode {
            exit(withError: error)
        } catch let error as CleanExit {
            exit(withError: error)
        } catch where !(error is ValidationError) && String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            exit(withError: error)  // its own ends, e.g. `--help` (a help command whose run asks for the help)
        } catch {
            let reason = (error as? ValidationError)?.message ?? String(describing: error)
            // One line, whatever the error carries (libpq's messages span two).
            let line = reason.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            FileHandle.standardError.write(Data("Error: \(line)\n".utf8))
            exit(withError: ExitCode.failure)
        }
    }
}
