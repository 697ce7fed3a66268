import Foundation
import XCTest
import PleatIngest
import PleatStorage
import PleatTestSupport

/// The shared MovieLens-100K copy in RecBole's atomic format loads completely.
final class MovieLensTests: IngestTestCase {
    func testMovieLens100KRecBoleFiles() throws {
        let base = TestDatabase.sharedDirectory.appendingPathComponent("data/ml-100k")
        let inter = base.appendingPathComponent("ml-100k.inter").path
        guard FileManager.default.fileExists(atPath: inter) else { throw XCTSkip("../shared/data/ml-100k is not beside this checkout") }
        let report = try ingest(inter, .recbole, items: base.appendingPathComponent("ml-100k.item").path, maxRejectRate: 0)
        XCTAssertEqual(report.status, .committed)
        XCTAssertEqual(report.rowsRejected, 0)
        let stats = try StoreStatistics.read(from: db)
        XCTAssertEqual(stats.interactions, 100_000)
        XCTAssertEqual(stats.users, 943)
        XCTAssertEqual(stats.items, 1_682)
        XCTAssertEqual(stats.itemsWithMetadata, 1_682)
        XCTAssertEqual(try count("SELECT count(DISTINCT category) FROM item_metadata"), 19, "MovieLens genres (first genre per item)")
        let toyStory = try db.query("SELECT array_to_string(genres, '|') FROM item_metadata m JOIN items i ON i.id = m.item_id WHERE external_id = '1'")
        XCTAssertEqual(toyStory.string(0, 0), "Animation|Children's|Comedy")
        XCTAssertEqual(try history("196").count, 39)
    }
}
