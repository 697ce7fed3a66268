import Foundation
import PleatCore

/// A private PostgreSQL cluster for one `PLEAT_HOME`, reachable only by its owner through a Unix socket.
///
/// It lets a newcomer (and the test suite) run Pleat without a database administrator, safely on a
/// shared machine: no TCP listener; a socket directory of mode 0700; `peer` authentication, so only the
/// OS user who started it (and, when that is root, the `postgres` user the server runs as) may connect.
/// No command line goes through a shell: paths with spaces, quotes or `$(…)` are only paths.
public struct LocalCluster: Sendable {
    public static let databaseName = "pleat"
    static let port = 5432

    /// `$PLEAT_HOME/postgres`: where the cluster's layout is recorded (and, for a non-root user, its data).
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    public init(home: PleatHome) { self.init(directory: home.postgresDirectory) }

    /// The superuser role: the OS user that owns the server process.
    var role: String { Self.runsAsPostgresUser ? "postgres" : ProcessInfo.processInfo.userName }

    /// The URL of the `pleat` database (empty socket host before the cluster exists).
    public var url: String { url(database: Self.databaseName) }

    public func url(database: String) -> String {
        let socket = recordedLayout()?.socketDirectory ?? directory.appendingPathComponent("run").path
        let host = socket.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "/-_."))) ?? socket
        return "postgresql:///\(database)?host=\(host)&port=\(Self.port)&user=\(role)"
    }

    public var socketDirectory: URL? { recordedLayout().map { URL(fileURLWithPath: $0.socketDirectory) } }

    public var isInitialized: Bool {
        guard let layout = recordedLayout() else { return false }
        return FileManager.default.fileExists(atPath: layout.dataDirectory + "/PG_VERSION")
    }

    public func isRunning() -> Bool {
        guard isInitialized, let layout = recordedLayout() else { return false }
        return (try? serverTool("pg_ctl", ["status", "-D", layout.dataDirectory])) != nil
    }

    public enum StartOutcome: Sendable { case started, alreadyRunning }

    /// Creates the cluster if needed, starts it, and makes sure the `pleat` database exists.
    @discardableResult
    public func start() throws -> StartOutcome {
        if isRunning(), let layout = recordedLayout() {
            try waitUntilAcceptingConnections(layout)  // it may still be recovering from a crash
            try createDatabaseIfMissing()
            return .alreadyRunning
        }
        var layout = try recordedLayout() ?? Layout.planned(directory: directory, serverHome: Self.serverAccount?.home)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try prepareServerDirectories(&layout)
        try record(layout)
        if !FileManager.default.fileExists(atPath: layout.dataDirectory + "/PG_VERSION") {
            try serverTool("initdb", ["-D", layout.dataDirectory, "-U", role, "--auth-local=peer", "--auth-host=reject",
                                      "--encoding=UTF8", "--locale=C", "--no-instructions"])
            try append("\n# Added by pleat db start: Pleat's settings, rewritten on every start\ninclude 'pleat.conf'\n",
                       to: layout.dataDirectory + "/postgresql.conf")
        }
        try writeServerConfiguration(layout)
        try launchServer(layout)
        try createDatabaseIfMissing()
        return .started
    }

    public func stop() throws {
        guard isRunning(), let layout = recordedLayout() else { return }
        try serverTool("pg_ctl", ["stop", "-w", "-m", "fast", "-D", layout.dataDirectory])
    }

    /// Stops the server and deletes the cluster: its data, socket and log wherever the layout put them,
    /// and its record (`pleat db remove`, and the test suite's throwaway clusters).
    public func destroy() throws {
        try? stop()
        if let layout = recordedLayout() {
            for path in [layout.dataDirectory, layout.socketDirectory, layout.logFile] { try? FileManager.default.removeItem(atPath: path) }
            if Self.runsAsPostgresUser { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: layout.dataDirectory).deletingLastPathComponent().path) }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Internals

    /// The data directory's parent and the socket directory exist, belong to the server's user and are
    /// private (0700).
    private func prepareServerDirectories(_ layout: inout Layout) throws {
        let fm = FileManager.default
        let dataParent = URL(fileURLWithPath: layout.dataDirectory).deletingLastPathComponent().path
        // A socket directory under /tmp may be gone after a reboot: make a new one rather than recreate a
        // name someone else could have taken meanwhile.
        if !fm.fileExists(atPath: layout.socketDirectory), layout.socketDirectory.hasPrefix("/tmp/pleat-pg-") {
            layout.socketDirectory = try Layout.socketDirectory(preferred: "")
        }
        var privateDirectories = [layout.socketDirectory]
        if Self.runsAsPostgresUser { privateDirectories.insert(contentsOf: [URL(fileURLWithPath: dataParent).deletingLastPathComponent().path, dataParent], at: 0) }
        for path in privateDirectories {
            try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard chmod(path, 0o700) == 0 else { throw PostgresError("cannot make \(path) private: \(String(cString: strerror(errno)))") }
            if let account = Self.serverAccount, Self.runsAsPostgresUser, chown(path, account.uid, account.gid) != 0 {
                throw PostgresError("cannot give \(path) to the postgres user: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Pleat's settings (`pleat.conf`), who may connect (`pg_hba.conf`, `pg_ident.conf`): rewritten on
    /// every start, so a cluster made by an older Pleat (`trust` for every local user) is locked down too.
    private func writeServerConfiguration(_ layout: Layout) throws {
        // Socket directories are plain paths (Layout.isPlainPath) or mkdtemp names: no quoting needed,
        // but quotes are still escaped the way the configuration file wants them.
        let socket = layout.socketDirectory.replacingOccurrences(of: "'", with: "''")
        try writeOwnedByServer(layout.dataDirectory + "/pleat.conf", """
            # Written by pleat db start on every start: no TCP, a private socket, tuned for bulk loads on one machine.
            listen_addresses = ''
            port = \(Self.port)
            unix_socket_directories = '\(socket)'
            unix_socket_permissions = 0700
            shared_buffers = 256MB
            max_wal_size = 4GB
            wal_level = minimal
            max_wal_senders = 0
            maintenance_work_mem = 256MB

            """)
        try writeOwnedByServer(layout.dataDirectory + "/pg_hba.conf", """
            # Written by pleat db start: only the cluster's owner, over its Unix socket (peer: the OS user is checked).
            local all all peer map=pleat

            """)
        let me = ProcessInfo.processInfo.userName
        let users = Self.runsAsPostgresUser ? [me, "postgres"] : [me]
        try writeOwnedByServer(layout.dataDirectory + "/pg_ident.conf",
                               "# Written by pleat db start: OS users who may connect as the cluster's superuser.\n"
                               + users.map { "pleat \($0) \(role)\n" }.joined())
    }

    /// Starts `postgres -D DATA` detached, without a shell (pg_ctl start would run one), and waits until
    /// it accepts connections.
    private func launchServer(_ layout: Layout) throws {
        let postgres = try Self.tool("postgres")
        var command = ["/usr/bin/setsid", "--fork"]
        if Self.runsAsPostgresUser { command += ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] }
        command += [postgres, "-D", layout.dataDirectory]
        let log = open(layout.logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard log >= 0 else { throw PostgresError("cannot open \(layout.logFile): \(String(cString: strerror(errno)))") }
        if let account = Self.serverAccount, Self.runsAsPostgresUser { fchown(log, account.uid, account.gid) }
        defer { close(log) }
        let launcher = try Subprocess.capture(command[0], Array(command.dropFirst()), outputDescriptor: log)
        guard launcher.succeeded else { throw PostgresError("cannot start PostgreSQL (\(launcher.how)): \(logTail(layout))") }
        try waitUntilAcceptingConnections(layout)
    }

    /// Waits (up to 60 s) until postmaster.pid's status line says "ready" and a connection succeeds. The
    /// file alone is not enough: after a crash or a machine restart a stale one still says "ready" while
    /// the new server replays its log and answers "the database system is starting up".
    private func waitUntilAcceptingConnections(_ layout: Layout) throws {
        let deadline = Date().addingTimeInterval(60)
        var lastError = ""
        while Date() < deadline {
            if serverReady(layout) {
                do { _ = try PostgresConnection(url: url(database: "postgres")); return } catch { lastError = "\(error)" }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw PostgresError("PostgreSQL did not become ready within 60 s: \(lastError)\n\(logTail(layout))")
    }

    private func serverReady(_ layout: Layout) -> Bool {
        guard let text = try? String(contentsOfFile: layout.dataDirectory + "/postmaster.pid", encoding: .utf8) else { return false }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.count > 7 && lines[7].trimmingCharacters(in: .whitespaces) == "ready"
    }

    private func logTail(_ layout: Layout) -> String {
        let text = (try? String(contentsOfFile: layout.logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(5).joined(separator: "\n")
    }

    private func createDatabaseIfMissing() throws {
        let admin = try PostgresConnection(url: url(database: "postgres"))
        let exists = try admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [.text(Self.databaseName)]).rowCount > 0
        if !exists { try admin.execute("CREATE DATABASE \(Self.databaseName)") }
    }

    private func writeOwnedByServer(_ path: String, _ text: String) throws {
        let temporary = path + ".pleat-tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw PostgresError("cannot write \(path)")
        }
        if let account = Self.serverAccount, Self.runsAsPostgresUser { chown(temporary, account.uid, account.gid) }
        guard rename(temporary, path) == 0 else { throw PostgresError("cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    private func append(_ text: String, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    static var runsAsPostgresUser: Bool { geteuid() == 0 }

    /// The `postgres` account's ids and home (Debian's postgresql package creates it).
    static var serverAccount: (uid: uid_t, gid: gid_t, home: String)? {
        guard let entry = getpwnam("postgres") else { return nil }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid, String(cString: entry.pointee.pw_dir))
    }

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

    /// Runs a server tool (as the `postgres` user when we are root), its arguments passed as they are;
    /// throws with its output on failure.
    @discardableResult
    private func serverTool(_ name: String, _ arguments: [String]) throws -> String {
        let executable = try Self.tool(name)
        if Self.runsAsPostgresUser {
            return try Subprocess.run("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", executable] + arguments)
        }
        return try Subprocess.run(executable, arguments)
    }
}
