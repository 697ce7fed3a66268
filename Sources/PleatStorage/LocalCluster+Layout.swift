import Foundation
import PleatCore

extension LocalCluster {
    /// Where a cluster's files are, decided when it is first created and recorded in
    /// `$PLEAT_HOME/postgres/cluster.json`, so every later command finds the same ones.
    public struct Layout: Codable, Equatable, Sendable {
        /// The data directory (owned by the server's user).
        public var dataDirectory: String
        /// The directory of the server's Unix socket: mode 0700, owned by the server's user, and never a
        /// name another user could guess and create first.
        public var socketDirectory: String
        public var logFile: String

        /// The layout for a new cluster whose record lives in `directory`.
        ///
        /// As root, the server runs as `postgres`, which must reach its data: the data lives under that
        /// user's home (`~postgres/pleat/<random>`), not under a `PLEAT_HOME` that may sit in root's
        /// 0700 home, and no permission of the user's directories changes. Otherwise everything stays
        /// under `directory`, except a socket directory whose path would be too long for a Unix socket
        /// (107 bytes) or would need quoting in the server's configuration: that one is a fresh
        /// `mkdtemp` directory under /tmp.
        static func planned(directory: URL, serverHome: String?) throws -> Layout {
            if LocalCluster.runsAsPostgresUser {
                guard let home = serverHome else {
                    throw PostgresError("running as root, the server runs as the postgres user, which this machine lacks: run scripts/setup.sh")
                }
                let base = "\(home)/pleat/\(Self.randomTag())"
                return Layout(dataDirectory: base + "/data", socketDirectory: base + "/run", logFile: base + "/server.log")
            }
            return Layout(dataDirectory: directory.appendingPathComponent("data").path,
                          socketDirectory: try socketDirectory(preferred: directory.appendingPathComponent("run").path),
                          logFile: directory.appendingPathComponent("server.log").path)
        }

        /// `preferred` when a socket path under it fits and needs no quoting; else a new private directory.
        static func socketDirectory(preferred: String) throws -> String {
            if isPlainPath(preferred), preferred.utf8.count + "/.s.PGSQL.5432".utf8.count < 107 { return preferred }
            var template = Array("/tmp/pleat-pg-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else {
                throw PostgresError("cannot create a socket directory under /tmp: \(String(cString: strerror(errno)))")
            }
            return String(cString: made)
        }

        /// Only characters that every consumer (the server's configuration, libpq URLs) takes as they are.
        static func isPlainPath(_ path: String) -> Bool {
            path.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2F || b == 0x2E || b == 0x5F || b == 0x2D
            }
        }

        static func randomTag() -> String {
            var generator = SystemRandomNumberGenerator()
            return (0..<12).map { _ in String(Int(generator.next() % 16), radix: 16) }.joined()
        }
    }

    var layoutFile: URL { directory.appendingPathComponent("cluster.json") }

    /// The recorded layout; a cluster made before layouts were recorded (data under `directory`) is
    /// adopted as it is, with a new socket directory; nil when there is no cluster yet.
    public func recordedLayout() -> Layout? {
        if let data = try? Data(contentsOf: layoutFile), let layout = try? JSONDecoder.snakeCase.decode(Layout.self, from: data) { return layout }
        let legacyData = directory.appendingPathComponent("data")
        guard FileManager.default.fileExists(atPath: legacyData.appendingPathComponent("PG_VERSION").path) else { return nil }
        return Layout(dataDirectory: legacyData.path, socketDirectory: directory.appendingPathComponent("run").path,
                      logFile: directory.appendingPathComponent("server.log").path)
    }

    func record(_ layout: Layout) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = try JSONEncoder.snakeCase(pretty: true).encode(layout)
        let temporary = layoutFile.appendingPathExtension("tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw PostgresError("cannot write \(temporary.path)")
        }
        guard rename(temporary.path, layoutFile.path) == 0 else { throw PostgresError("cannot write \(layoutFile.path)") }
    }
}
