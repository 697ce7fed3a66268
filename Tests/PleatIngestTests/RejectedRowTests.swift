import Foundation
import XCTest
import PleatIngest
import PleatStorage

/// Bad rows are kept with file, line and reason; too many of them abort the batch with nothing stored.
final class RejectedRowTests: IngestTestCase {
    func testEveryKindOfBadRowIsKeptWithLineAndReason() throws {
        var bytes = Array("""
            user,item,time,value
            u1,i1,100,1
            u1,i2
            u1,i3,yesterday,1
            ,i4,100,1
            u1,  ,100,1
            u1,i5,100,lots
            u1,"i6,100,1
            u1,i7,200,2

            """.utf8)
        // Line 10: invalid UTF-8 in the item id.
        bytes += Array("u1,i".utf8) + [0xFF, 0xFE] + Array(",300,1\n".utf8)
        let path = try write("bad.csv", bytes: bytes)
        let report = try ingest(path, .csv)
        XCTAssertEqual(report.status, .committed)
        XCTAssertEqual(report.rowsRead, 9)
        XCTAssertEqual(report.rowsLoaded, 2)
        XCTAssertEqual(report.rowsRejected, 7)
        let rejected = try rejects(report.batchId)
        XCTAssertEqual(rejected.map(\.0), [3, 4, 5, 6, 7, 8, 10])
        let reasons = rejected.map(\.1)
        XCTAssertTrue(reasons[0].hasPrefix("wrong column count: expected 4, found 2"), reasons[0])
        XCTAssertTrue(reasons[1].hasPrefix("unparsable time: 'yesterday'"), reasons[1])
        XCTAssertTrue(reasons[2].hasPrefix("empty id: user id"), reasons[2])
        XCTAssertTrue(reasons[3].hasPrefix("empty id: item id"), reasons[3])
        XCTAssertTrue(reasons[4].hasPrefix("unparsable value: 'lots'"), reasons[4])
        XCTAssertEqual(reasons[5], "unterminated quote")
        XCTAssertEqual(reasons[6], "invalid UTF-8")
        XCTAssertEqual(report.rejectsByKind[.wrongColumnCount], 1)
        // The report carries the first five, as stored, with the row as read.
        XCTAssertEqual(report.firstRejects.map(\.line), [3, 4, 5, 6, 7])
        XCTAssertEqual(report.firstRejects.map(\.reason), Array(reasons.prefix(5)))
        XCTAssertEqual(report.firstRejects.map(\.raw), ["u1,i2", "u1,i3,yesterday,1", ",i4,100,1", "u1,  ,100,1", "u1,i5,100,lots"])
        XCTAssertTrue(report.firstRejects.allSatisfy { $0.source.hasSuffix("bad.csv") }, "\(report.firstRejects.map(\.source))")
        // --json names each kind by its reason, as the stored rows do.
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]
        XCTAssertEqual(json?["rejectsByKind"] as? [String: Int], ["wrong column count": 1, "unparsable time": 1, "empty id": 2,
                                                                  "unparsable value": 1, "unterminated quote": 1, "invalid UTF-8": 1])
        // The raw bytes are kept exactly, even when they are not UTF-8.
        let raw = try db.query("SELECT encode(raw, 'hex'), source FROM rejected_rows WHERE line_number = 10")
        XCTAssertEqual(raw.string(0, 0), "75312c69fffe2c3330302c31")
        XCTAssertEqual(raw.string(0, 1), path)
        XCTAssertEqual(try history("u1").map(\.0), ["i1", "i7"])
    }

    func testJSONLinesBadRows() throws {
        let path = try write("bad.jsonl", """
            {"user_id": "u1", "item_id": "a", "timestamp": 1}
            {"user_id": "u1", "item_id": "b"
            {"user_id": "u1", "timestamp": 3}
            [1, 2, 3]
            {"user_id": "u1", "item_id": "c", "timestamp": "soon"}
            """)
        let report = try ingest(path, .jsonl)
        XCTAssertEqual(report.rowsLoaded, 1)
        let reasons = try rejects(report.batchId)
        XCTAssertEqual(reasons.map(\.0), [2, 3, 4, 5])
        XCTAssertTrue(reasons[0].1.hasPrefix("invalid JSON"), reasons[0].1)
        XCTAssertEqual(reasons[1].1, "missing field: key 'item_id'")
        XCTAssertEqual(reasons[2].1, "invalid JSON: not an object")
        XCTAssertTrue(reasons[3].1.hasPrefix("unparsable time"), reasons[3].1)
    }

    func testRejectRateAboveLimitAbortsWithNothingStored() throws {
        let path = try write("mostly-bad.csv", "user,item,time\nu1,i1,1\nu1,i2,never\nu2,i3,3\n")
        let report = try ingest(path, .csv, maxRejectRate: 0.01)
        XCTAssertEqual(report.status, .aborted)
        XCTAssertEqual(report.rowsLoaded, 0)
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), 0)
        XCTAssertEqual(try count("SELECT count(*) FROM users"), 0)
        XCTAssertEqual(try count("SELECT count(*) FROM items"), 0)
        XCTAssertEqual(try db.query("SELECT status FROM ingest_batches").string(0, 0), "aborted")
        XCTAssertEqual(try rejects(report.batchId).map(\.0), [3], "the reasons are still kept for inspection")
        // Re-running with a looser limit is allowed: an aborted batch does not count as ingested.
        let again = try ingest(path, .csv, maxRejectRate: 0.5)
        XCTAssertEqual(again.status, .committed)
        XCTAssertEqual(again.rowsLoaded, 2)
    }

    func testBadItemMetadataRowsAreKeptToo() throws {
        let inter = try write("x.csv", "user,item,time\nu,a,1\n")
        let items = try write("x.items.csv", "item_id,category\na,books\n,toys\nb,games,extra\n")
        let report = try ingest(inter, .csv, items: items)
        XCTAssertEqual(report.itemsDescribed, 1)
        XCTAssertEqual(report.itemRowsRejected, 2)
        let rows = try db.query("SELECT line_number, reason FROM rejected_rows WHERE source = $1 ORDER BY line_number", [.text(items)])
        XCTAssertEqual(rows.rowCount, 2)
        XCTAssertEqual(rows.int(0, 0), 3)
        XCTAssertEqual(rows.string(0, 1), "empty id: item id in column item_id")
        XCTAssertTrue(rows.string(1, 1)!.hasPrefix("wrong column count"))
    }
}
