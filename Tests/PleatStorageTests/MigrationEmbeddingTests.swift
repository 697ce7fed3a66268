import Foundation
import XCTest
import PleatTestSupport
@testable import PleatStorage

/// The migrations built into the binary are exactly the files in migrations/ (the source of truth).
final class MigrationEmbeddingTests: XCTestCase {
    func testTheBuiltInMigrationsAreTheFiles() throws {
        for (source, folder) in [(Migration.Source.postgres, "migrations"), (.sqlite, "migrations/sqlite")] {
            let files = try Migration.load(from: TestDatabase.repositoryRoot.appendingPathComponent(folder))
            let embedded = try source.migrations(environment: [:])
            XCTAssertFalse(files.isEmpty)
            XCTAssertEqual(embedded, files, "\(folder) changed: run scripts/embed-migrations.py")
        }
    }

    func testPLEATMIGRATIONSNamesADirectoryToReadInstead() throws {
        let directory = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("sqlite"), withIntermediateDirectories: true)
        try "CREATE TABLE t (x int);\n".write(to: directory.appendingPathComponent("0001_only.sql"), atomically: true, encoding: .utf8)
        let found = try Migration.Source.postgres.migrations(environment: ["PLEAT_MIGRATIONS": directory.path])
        XCTAssertEqual(found.map(\.name), ["only"])
        XCTAssertEqual(try Migration.Source.sqlite.migrations(environment: ["PLEAT_MIGRATIONS": directory.path]), [])
    }
}
