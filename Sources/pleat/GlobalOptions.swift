import ArgumentParser
import Foundation
import PleatCore
import PleatStorage

/// Options every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Local state directory (default: $PLEAT_HOME or .pleat).")
    var home: String?

    var pleatHome: PleatHome { PleatHome(path: home) }

    /// The database: DATABASE_URL / PLEAT_DATABASE_URL, else the local cluster.
    var database: DatabaseLocation { .resolve(home: pleatHome) }
}

/// Prints one JSON object on one line (the machine-readable last line of a command).
func printJSONLine<T: Encodable>(_ value: T) throws {
    print(String(decoding: try JSONEncoder.snakeCase().encode(value), as: UTF8.self))
}

/// Writes a line to stderr (messages that must not mix with JSON on stdout).
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
