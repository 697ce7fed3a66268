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

        func run() throws {
            switch global.database {
            case .external(let url):
                print("DATABASE_URL is set: using that server (\(ConnectionString.redacted(url))); no local cluster started")
            case .local(let cluster):
                let outcome = try cluster.start()
                print(outcome == .alreadyRunning ? "already running" : "started", "PostgreSQL at", cluster.socketDirectory?.path ?? "?")
                print("url:", cluster.url)
                // A private cluster exists to run Pleat: its schema comes with it.
                let applied = try Migrator(migrations: try Migration.Source.postgres.migrations()).migrate(try global.database.connect()).applied
                if !applied.isEmpty { print("applied \(applied.count) migration\(applied.count == 1 ? "" : "s") (\(applied.last.map { "\($0.version)_\($0.name)" } ?? ""))") }
            }
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the private cluster.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            guard case .local(let cluster) = global.database else {
                print("DATABASE_URL is set: Pleat does not manage that server"); return
            }
            let wasRunning = cluster.isRunning()
            try cluster.stop()
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

        func run() throws {
            guard case .local(let cluster) = global.database else {
                print("DATABASE_URL is set: Pleat does not manage that server"); return
            }
            guard yes else {
                print("this deletes the cluster at \(cluster.directory.path) and all its data; run again with --yes")
                throw ExitCode(1)
            }
            try cluster.destroy()
            print("removed", cluster.directory.path)
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show where the database is and which migrations are pending.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let location = global.database
            if case .local(let cluster) = location {
                print("local cluster:", cluster.directory.path, cluster.isRunning() ? "(running)" : "(stopped)")
                guard cluster.isRunning() else { throw ExitCode(1) }
            } else {
                print("external server from DATABASE_URL")
            }
            let db = try location.connect()
            let migrator = Migrator(migrations: try Migration.Source.postgres.migrations())
            let pending = try migrator.pending(db)
            print(pending.isEmpty ? "schema up to date" : "pending migrations: " + pending.map { "\($0.version)_\($0.name)" }.joined(separator: ", "))
        }
    }

    struct URL: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "url", abstract: "Print the connection URL (for psql and other tools).")
        @OptionGroup var global: GlobalOptions

        func run() throws { print(global.database.url) }
    }

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply pending migrations in order (built into pleat; PLEAT_MIGRATIONS=DIR reads DIR instead): PostgreSQL's, then the recommendation cache's.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var cacheOptions: CacheOptions

        func run() throws {
            let targets: [(String, Migration.Source, any MigrationTarget)] = [
                ("PostgreSQL", .postgres, try global.database.connect()),
                ("cache", .sqlite, try SQLiteConnection(path: cacheOptions.path(global))),
            ]
            for (name, source, target) in targets {
                let outcome = try Migrator(migrations: try source.migrations()).migrate(target)
                for migration in outcome.applied { print("\(name): applied \(migration.version)_\(migration.name)") }
                print("\(name): " + (outcome.applied.isEmpty ? "schema up to date (\(outcome.alreadyApplied) applied)" : "\(outcome.applied.count) migration(s) applied"))
            }
        }
    }
}
