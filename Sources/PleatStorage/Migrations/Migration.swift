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
        return try parse(files.map { ($0, try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)) })
    }

    /// Where a schema's migrations come from: the ones built into this binary (so it runs anywhere), or
    /// a directory named in `PLEAT_MIGRATIONS` (its `sqlite/` subdirectory for the cache), for developing
    /// a new migration before `scripts/embed-migrations.py` builds it in.
    public enum Source: Sendable {
        case postgres, sqlite

        public func migrations(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [Migration] {
            if let directory = environment["PLEAT_MIGRATIONS"], !directory.isEmpty {
                let url = URL(fileURLWithPath: directory)
                return try Migration.load(from: self == .postgres ? url : url.appendingPathComponent("sqlite"))
            }
            return try Migration.parse(self == .postgres ? Self.embeddedPostgres : Self.embeddedSqlite)
        }
    }

    /// Migrations from (file name, SQL) pairs, checked and ordered as files are.
    static func parse(_ files: [(file: String, sql: String)]) throws -> [Migration] {
        var migrations: [Migration] = []
        for (file, sql) in files {
            let stem = file.dropLast(4)
            guard file.hasSuffix(".sql"), let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
                throw MigrationError("\(file): migration files are named NNNN_description.sql")
            }
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw MigrationError("two migrations are numbered \(a.version): \(a.name) and \(b.name)")
        }
        return migrations
    }
}

public struct MigrationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
