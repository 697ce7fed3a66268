import Foundation
import XCTest
import PleatIngest
import PleatStorage
import PleatTestSupport

/// A fresh migrated database and a scratch directory per test, with helpers to write and load files.
class IngestTestCase: XCTestCase {
    var url = ""
    var db: PostgresConnection!
    var dir: URL!

    override func setUpWithError() throws {
        url = try TestDatabase.fresh()
        db = try PostgresConnection(url: url)
        dir = try TestDatabase.scratchDirectory()
    }

    override func tearDownWithError() throws {
        db = nil
        try? FileManager.default.removeItem(at: dir)
    }

    /// Writes a file (bytes as given) and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, bytes: Array(text.utf8))
    }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func ingest(_ path: String, _ format: InteractionFormat, mapping: ColumnMapping = ColumnMapping(),
                items: String? = nil, itemsFormat: InteractionFormat? = nil, maxRejectRate: Double = 1) throws -> IngestReport {
        try Ingestor(db: db).ingest(file: path, options: IngestOptions(
            format: format, mapping: mapping, itemsFile: items, itemsFormat: itemsFormat, maxRejectRate: maxRejectRate))
    }

    func count(_ sql: String) throws -> Int { try db.query(sql).int(0, 0)! }

    /// A user's history as (item external id, Unix seconds, event, value), in time order.
    func history(_ user: String) throws -> [(String, Double, String, Double?)] {
        let rows = try db.query("""
            SELECT it.external_id, extract(epoch FROM i.occurred_at)::float8, e.name, i.value
            FROM interactions i JOIN users u ON u.id = i.user_id JOIN items it ON it.id = i.item_id
            JOIN event_types e ON e.id = i.event_type
            WHERE u.external_id = $1 ORDER BY i.occurred_at, i.item_id
            """, [.text(user)])
        return (0..<rows.rowCount).map { (rows.string($0, 0)!, rows.double($0, 1)!, rows.string($0, 2)!, rows.double($0, 3)) }
    }

    /// Rejected rows of a batch as (line, reason).
    func rejects(_ batch: Int?) throws -> [(Int, String)] {
        let rows = try db.query("SELECT line_number, reason FROM rejected_rows WHERE batch_id = $1 ORDER BY source, line_number",
                                [batch.map { .int($0) } ?? .null])
        return (0..<rows.rowCount).map { (rows.int($0, 0)!, rows.string($0, 1)!) }
    }
}
