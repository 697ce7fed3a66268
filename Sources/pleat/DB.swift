import Foundation
import ArgumentParser
import PleatStorage

/// `pleat db …`: the local PostgreSQL cluster and schema migrations.
struct DB: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the PostgreSQL database: a private local cluster, and schema migrations.",
        subcommands: [Start.self, Stop.self, Remove.self, Status.self, Migrate.self, URL.self])

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create (if needed) and start the private cluster under $PLEAT_HOME/postgres. Idempotent.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print one JSON object: state, url, applied migrations.") var json = false

        func run() throws {
            switch global.database {
            case .external(let url):
                if json { return try printJSONLine(DatabaseState(state: "external", url: ConnectionString.redacted(url))) }
                print("DATABASE_URL is set: using that server (\(ConnectionString.redacted(url))); no local cluster started")
            case .local(let cluster):
                let outcome = try cluster.start()
                // A private cluster exists to run Pleat: its schema comes with it.
                let applied = try Migrator(migrations: try Migration.Source.postgres.migrations()).migrate(try global.database.connect()).applied
                let names = applied.map { "\($0.version)_\($0.name)" }
                if json {
                    return try printJSONLine(DatabaseState(state: outcome == .alreadyRunning ? "already running" : "started", url: cluster.url, applied: names))
                }
                print(outcome == .alreadyRunning ? "already running" : "started", "PostgreSQL at", cluster.socketDirectory?.path ?? "?")
                print("url:", cluster.url)
                if !applied.isEmpty { print("applied \(applied.count) migration\(applied.count == 1 ? "" : "s") (\(names.last ?? ""))") }
            }
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the private cluster.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print one JSON object: state.") var json = false

        func run() throws {
            guard case .local(let cluster) = global.database else {
                if json { return try printJSONLine(DatabaseState(state: "external")) }
                print("DATABASE_URL is set: Pleat does not manage that server"); return
            }
            let wasRunning = cluster.isRunning()
            try cluster.stop()
            if json { return try printJSONLine(DatabaseState(state: wasRunning ? "stopped" : "not running")) }
            print(wasRunning ? "stopped" : "not running")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop the private cluster and delete it with every database in it.",
            discussion: """
                As root the server's files live under the postgres user's home, not under $PLEAT_HOME, so \
                deleting $PLEAT_HOME alone would leave them behind; this removes both.
                """)
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Confirm the deletion: every database of the cluster is lost. Without it nothing is deleted.") var yes = false
        @Flag(help: "Print one JSON object: state, directory.") var json = false

        func run() throws {
            guard case .local(let cluster) = global.database else {
                if json { return try printJSONLine(DatabaseState(state: "external")) }
                print("DATABASE_URL is set: Pleat does not manage that server"); return
            }
            guard yes else {
                throw ValidationError("this deletes the cluster at \(cluster.directory.path) and all its data; run again with --yes")
            }
            try cluster.destroy()
            if json { return try printJSONLine(DatabaseState(state: "removed", directory: cluster.directory.path)) }
            print("removed", cluster.directory.path)
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show where the database is and which migrations are pending.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print one JSON object: state, directory, pending migrations.") var json = false

        func run() throws {
            let location = global.database
            if case .local(let cluster) = location, !cluster.isRunning() {
                if json { try printJSONLine(DatabaseState(state: "stopped", directory: cluster.directory.path)) } else {
                    print("local cluster:", cluster.directory.path, "(stopped)")
                }
                throw ExitCode(1)
            }
            let pending = try Migrator(migrations: try Migration.Source.postgres.migrations()).pending(try location.connect()).map { "\($0.version)_\($0.name)" }
            if case .local(let cluster) = location {
                if json { return try printJSONLine(DatabaseState(state: "running", directory: cluster.directory.path, pending: pending)) }
                print("local cluster:", cluster.directory.path, "(running)")
            } else {
                if json { return try printJSONLine(DatabaseState(state: "external", pending: pending)) }
                print("external server from DATABASE_URL")
            }
            print(pending.isEmpty ? "schema up to date" : "pending migrations: " + pending.joined(separator: ", "))
        }
    }

    struct URL: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "url", abstract: "Print the connection URL (for psql and other tools).")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print one JSON object: url.") var json = false

        func run() throws {
            if json { return try printJSONLine(DatabaseState(state: global.database.isExternal ? "external" : "local", url: global.database.url)) }
            print(global.database.url)
        }
    }

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply pending migrations in order (built into pleat; PLEAT_MIGRATIONS=DIR reads DIR instead): PostgreSQL's, then the recommendation cache's.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var cacheOptions: CacheOptions
        @Flag(help: "Print one JSON object: the migrations applied to PostgreSQL and to the cache.") var json = false

        func run() throws {
            let targets: [(String, Migration.Source, any MigrationTarget)] = [
                ("PostgreSQL", .postgres, try global.database.connect()),
                ("cache", .sqlite, try SQLiteConnection(path: cacheOptions.path(global))),
            ]
            var applied: [String: [String]] = [:]
            for (name, source, target) in targets {
                let outcome = try Migrator(migrations: try source.migrations()).migrate(target)
                applied[name == "PostgreSQL" ? "postgres" : "cache"] = outcome.applied.map { "\($0.version)_\($0.name)" }
                guard !json else { continue }
                for migration in outcome.applied { print("\(name): applied \(migration.version)_\(migration.name)") }
                print("\(name): " + (outcome.applied.isEmpty ? "schema up to date (\(outcome.alreadyApplied) applied)" : "\(outcome.applied.count) migration(s) applied"))
            }
            if json { try printJSONLine(applied) }
        }
    }

    /// `--json` of the `db` commands: what state the database is in, and what changed.
    struct DatabaseState: Encodable {
        var state: String
        var url: String?
        var directory: String?
        var applied: [String]?
        var pending: [String]?

        init(state: String, url: String? = nil, directory: String? = nil, applied: [String]? = nil, pending: [String]? = nil) {
            (self.state, self.url, self.directory, self.applied, self.pending) = (state, url, directory, applied, pending)
        }
    }
}
