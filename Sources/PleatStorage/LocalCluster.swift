import Foundation
import PleatCore

/// A private PostgreSQL cluster under `$PLEAT_HOME/postgres`, reachable only through a Unix socket.
///
/// It lets a newcomer (and the test suite) run Pleat without a database administrator: no TCP port, no
/// root. PostgreSQL refuses to run as root, so when we are root the server runs as the `postgres` user.
public struct LocalCluster: Sendable {
    public static let databaseName = "pleat"
    static let port = 5432

    public let directory: URL
    public var dataDirectory: URL { directory.appendingPathComponent("data") }
    public var logFile: URL { directory.appendingPathComponent("server.log") }

    public init(directory: URL) { self.directory = directory }

    public init(home: PleatHome) { self.init(directory: home.postgresDirectory) }

    /// Unix sockets have a ~107-byte path limit; deep checkouts fall back to a short, stable /tmp path.
    public var socketDirectory: URL {
        let preferred = directory.appendingPathComponent("run")
        if preferred.path.utf8.count + 16 < 100 { return preferred }
        let tag = SHA256.hex(of: Array(directory.path.utf8)).prefix(12)
        return URL(fileURLWithPath: "/tmp/pleat-pg-\(tag)")
    }

    /// The superuser role: the OS user that owns the server process.
    var role: String { Self.runsAsPostgresUser ? "postgres" : ProcessInfo.processInfo.userName }

    public var url: String { url(database: Self.databaseName) }

    public func url(database: String) -> String {
        let host = socketDirectory.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "/-_."))) ?? socketDirectory.path
        return "postgresql:///\(database)?host=\(host)&port=\(Self.port)&user=\(role)"
    }

    public var isInitialized: Bool {
        FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path)
    }

    public func isRunning() -> Bool {
        guard isInitialized else { return false }
        return (try? run(Self.tool("pg_ctl"), ["status", "-D", dataDirectory.path])) != nil
    }

    public enum StartOutcome: Sendable { case started, alreadyRunning }

    /// Creates the cluster if needed, starts it, and makes sure the `pleat` database exists.
    @discardableResult
    public func start() throws -> StartOutcome {
        if isRunning() { try createDatabaseIfMissing(); return .alreadyRunning }
        try prepareDirectories()
        if !isInitialized { try initialize() }
        try run(Self.tool("pg_ctl"), ["start", "-w", "-t", "60", "-D", dataDirectory.path, "-l", logFile.path,
                                     "-o", "-k \(socketDirectory.path) -p \(Self.port)"])
        try createDatabaseIfMissing()
        return .started
    }

    public func stop() throws {
        guard isRunning() else { return }
        try run(Self.tool("pg_ctl"), ["stop", "-w", "-m", "fast", "-D", dataDirectory.path])
    }

    /// Stops the server and deletes the cluster (used by the test suite for its throwaway clusters).
    public func destroy() throws {
        try? stop()
        try? FileManager.default.removeItem(at: directory)
        if !socketDirectory.path.hasPrefix(directory.path) { try? FileManager.default.removeItem(at: socketDirectory) }
    }

    // MARK: Internals

    private func initialize() throws {
        try run(Self.tool("initdb"), ["-D", dataDirectory.path, "-U", role, "--auth=trust", "--encoding=UTF8",
                                     "--locale=C", "--no-instructions"])
        // Tuned for one machine doing bulk loads: no TCP, large WAL between checkpoints, minimal WAL.
        let settings = """

        # Added by pleat db start
        listen_addresses = ''
        unix_socket_directories = '\(socketDirectory.path)'
        shared_buffers = 256MB
        max_wal_size = 4GB
        wal_level = minimal
        max_wal_senders = 0
        maintenance_work_mem = 256MB
        """
        let conf = dataDirectory.appendingPathComponent("postgresql.conf")
        let handle = try FileHandle(forWritingTo: conf)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(settings.utf8))
        try handle.close()
    }

    private func prepareDirectories() throws {
        let fm = FileManager.default
        for dir in [directory, socketDirectory] {
            try fm.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        if Self.runsAsPostgresUser {
            try run("/bin/chown", ["-R", "postgres:postgres", directory.path, socketDirectory.path], asServerUser: false)
        }
    }

    private func createDatabaseIfMissing() throws {
        let admin = try PostgresConnection(url: url(database: "postgres"))
        let exists = try admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [Self.databaseName]).rowCount > 0
        if !exists { try admin.execute("CREATE DATABASE \(Self.databaseName)") }
    }

    static var runsAsPostgresUser: Bool { geteuid() == 0 }

    /// The newest installed PostgreSQL server binaries (Debian keeps them off PATH).
    static func tool(_ name: String) throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            let path = "\(root)/\(version)/bin/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw PostgresError("PostgreSQL server tools not found under \(root): run scripts/setup.sh (installs the postgresql package)")
    }

    /// Runs a server tool, as the `postgres` user when we are root; throws with its output on failure.
    @discardableResult
    private func run(_ executable: String, _ arguments: [String], asServerUser: Bool = true) throws -> String {
        if asServerUser && Self.runsAsPostgresUser {
            return try Subprocess.run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
        }
        return try Subprocess.run(executable, arguments)
    }
}
