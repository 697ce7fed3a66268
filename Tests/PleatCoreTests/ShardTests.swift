import XCTest
import PleatCore

/// The shard function: FNV-1a-32 of the external id's UTF-8 bytes, modulo the shard count. The vectors
/// are the ones docs/sharding.md gives for load balancers.
final class ShardTests: XCTestCase {
    func testHashMatchesThePublishedFNV1aVectorsAndTheDocumentedOnes() {
        // FNV-1a-32 reference values (the FNV authors' test suite): "", "a", "foobar".
        XCTAssertEqual(Shard.hash(""), 0x811C_9DC5)
        XCTAssertEqual(Shard.hash("a"), 0xE40C_292C)
        XCTAssertEqual(Shard.hash("foobar"), 0xBF9C_F968)
        // docs/sharding.md: id → hash, shard of 4, shard of 16.
        let documented: [(String, UInt32, Int, Int)] = [
            ("1", 873_244_444, 0, 12), ("42", 2_279_835_011, 3, 3), ("user_1000", 3_762_765_494, 2, 6),
            ("u-0007", 454_161_950, 2, 14), ("José", 3_133_228_423, 3, 7), ("用户", 467_979_193, 1, 9),
        ]
        for (id, hash, of4, of16) in documented {
            XCTAssertEqual(Shard.hash(id), hash, id)
            XCTAssertEqual(Shard.index(of: id, count: 4), of4, id)
            XCTAssertEqual(Shard.index(of: id, count: 16), of16, id)
            XCTAssertTrue(try Shard(index: of4, count: 4).owns(id))
            XCTAssertEqual(try Shard(parsing: "0/16").owner(of: id), try Shard(index: of16, count: 16))
        }
    }

    func testParsingAndItsErrors() throws {
        XCTAssertEqual(try Shard(parsing: "2/8"), try Shard(index: 2, count: 8))
        XCTAssertEqual(try Shard(parsing: "2/8").description, "2/8")
        XCTAssertEqual(Shard.all.description, "0/1")
        for bad in ["", "3", "8/8", "-1/4", "1/0", "a/b", "1/2/3", "0/70000", "1 /2"] {
            XCTAssertThrowsError(try Shard(parsing: bad), bad) { error in
                XCTAssertTrue("\(error)".contains("I/N"), "\(bad): \(error)")
            }
        }
        XCTAssertTrue(Shard.all.owns("anyone"))
    }

    /// 100,000 ids of the kind ingest sees split evenly: each of 8 shards within 2% of 12,500.
    func testSplitsTypicalIdsEvenly() {
        var counts = [Int](repeating: 0, count: 8)
        for i in 0..<100_000 { counts[Shard.index(of: String(i), count: 8)] += 1 }
        for c in counts { XCTAssertEqual(Double(c), 12_500, accuracy: 250, "\(counts)") }
    }
}
