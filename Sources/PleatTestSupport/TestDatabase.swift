import Foundation
import PleatStorage

/// A real PostgreSQL for tests: a throwaway local cluster started once per test process (removed at
/// exit), or the server named by `PLEAT_TEST_DATABASE_URL`. Each test gets its own fresh database.
public enum TestDatabase {
    /// Server-level URL template: a database name is substituted for `{db}`.
    private static let server: (template: String, cluster: LocalCluster?) = {
        if let url = ProcessInfo.processInfo.environment["PLEAT_TEST_DATABASE_URL"] {
            return (url, nil)
        }
        let dir = URL(fileURLWithPath: "/tmp/pleat-test-\(getpid())")
        let cluster = LocalCluster(directory: dir)
        do { try cluster.start() } catch { fatalError("cannot start the test PostgreSQL: \(error)") }
        atexit { try? TestDatabase.server.cluster?.destroy() }
        return (cluster.url(database: "{db}"), cluster)
    }()

    /// The local cluster used by the tests, if they started one.
    public static var cluster: LocalCluster? { server.cluster }

    /// Creates an empty, migrated database and returns its URL.
    public static func fresh(migrated: Bool = true) throws -> String {
        let name = "t_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        let admin = try PostgresConnection(url: url(for: "postgres"))
        try admin.execute("CREATE DATABASE \(name)")
        let url = url(for: name)
        if migrated {
            _ = try Migrator(migrations: Migration.load(from: migrationsDirectory)).migrate(PostgresConnection(url: url))
        }
        return url
    }

    public static func url(for database: String) -> String {
        let template = server.template
        if template.contains("{db}") { return template.replacingOccurrences(of: "{db}", with: database) }
        // An external URL: swap its database path component.
        guard var parts = URLComponents(string: template) else { return template }
        parts.path = "/" + database
        return parts.string ?? template
    }

    /// The repository root, found from this source file.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static var migrationsDirectory: URL { repositoryRoot.appendingPathComponent("migrations") }

    /// `../shared` beside the checkout (MovieLens and reference files), when present.
    public static var sharedDirectory: URL { repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared") }

    /// The built `pleat` executable beside the test bundle.
    public static var pleatExecutable: URL {
        if let explicit = ProcessInfo.processInfo.environment["PLEAT_BIN"] { return URL(fileURLWithPath: explicit) }
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundleDir.appendingPathComponent("pleat")
    }

    /// A fresh temporary directory for a test's files, inside one directory per test process that is
    /// removed at exit, so that tests which do not clean up after themselves leave nothing behind.
    public static func scratchDirectory() throws -> URL {
        let dir = scratchRoot.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    private static let scratchRoot: URL = {
        atexit { try? FileManager.default.removeItem(at: TestDatabase.scratchRoot) }
        return FileManager.default.temporaryDirectory.appendingPathComponent("pleat-test-files-\(getpid())")
    }()
}
