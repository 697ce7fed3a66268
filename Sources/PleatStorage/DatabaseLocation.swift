import Foundation
import PleatCore

/// Where Pleat's PostgreSQL lives: a server named by `DATABASE_URL` / `PLEAT_DATABASE_URL`, or the
/// private local cluster under `$PLEAT_HOME`.
public enum DatabaseLocation: Sendable {
    case external(url: String)
    case local(LocalCluster)

    public static func resolve(home: PleatHome, environment: [String: String] = ProcessInfo.processInfo.environment) -> DatabaseLocation {
        if let url = environment["PLEAT_DATABASE_URL"] ?? environment["DATABASE_URL"], !url.isEmpty {
            return .external(url: url)
        }
        return .local(LocalCluster(home: home))
    }

    /// Whether the server is one Pleat does not manage (`DATABASE_URL`).
    public var isExternal: Bool {
        if case .external = self { return true }
        return false
    }

    public var url: String {
        switch self {
        case .external(let url): return url
        case .local(let cluster): return cluster.url
        }
    }

    /// Connects, explaining how to start the local cluster when it is not running.
    public func connect() throws -> PostgresConnection {
        do {
            return try PostgresConnection(url: url)
        } catch let error as PostgresError {
            if case .local(let cluster) = self, !cluster.isRunning() {
                throw PostgresError("the local PostgreSQL under \(cluster.directory.path) is not running: run `pleat db start` (or set DATABASE_URL)")
            }
            throw error
        }
    }
}
