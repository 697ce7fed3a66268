import Foundation
import PleatCore

/// One numbered SQL file from `migrations/`, e.g. `0001_core_schema.sql` → version 1, "core_schema".
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    public let checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hex(of: Array(sql.utf8))
    }

    /// Reads every `NNNN_name.sql` file of a directory, ordered by number; numbers must be unique.
    public static func load(from directory: URL) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        var migrations: [Migration] = []
        for file in files {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
                throw MigrationError("\(file): migration files are named NNNN_description.sql")
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw MigrationError("two migrations are numbered \(a.version): \(a.name) and \(b.name)")
        }
        return migrations
    }

    /// Finds the `migrations/` directory: `PLEAT_MIGRATIONS`, else the nearest one above the working
    /// directory or above the `pleat` executable (a checkout's `.build/…/pleat`).
    public static func locateDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let explicit = environment["PLEAT_MIGRATIONS"] { return URL(fileURLWithPath: explicit) }
        let starts = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                      URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()]
        for start in starts {
            var dir = start.standardizedFileURL
            while true {
                let candidate = dir.appendingPathComponent("migrations")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("0001_core_schema.sql").path) { return candidate }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        throw MigrationError("cannot find the migrations/ directory: run from a Pleat checkout or set PLEAT_MIGRATIONS")
    }
}

public struct MigrationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
