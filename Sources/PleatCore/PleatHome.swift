import Foundation

/// The directory that holds Pleat's local state: the private PostgreSQL cluster, the SQLite cache and
/// model artifacts. `PLEAT_HOME` overrides the default `.pleat` in the working directory.
public struct PleatHome: Sendable {
    public let url: URL

    public init(path: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let chosen = path ?? environment["PLEAT_HOME"] ?? ".pleat"
        url = URL(fileURLWithPath: chosen, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL
    }

    public var postgresDirectory: URL { url.appendingPathComponent("postgres") }
}
