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

extension GlobalOptions {
    /// A connection for unattended runs (pipelines, jobs): the local cluster is started when it is not
    /// running, and pending migrations are applied.
    func readyDatabase() throws -> PostgresConnection {
        if case .local(let cluster) = database, !cluster.isRunning() {
            _ = try cluster.start()
            note("started PostgreSQL at \(cluster.socketDirectory?.path ?? "?")")
        }
        let db = try database.connect()
        let outcome = try Migrator(migrations: try Migration.Source.postgres.migrations()).migrate(db)
        for migration in outcome.applied { note("PostgreSQL: applied migration \(migration.version)_\(migration.name)") }
        return db
    }
}
