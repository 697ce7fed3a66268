import Foundation
import XCTest
import PleatCore
import PleatIngest
@testable import PleatStorage
import PleatTestSupport

/// Storage partitions follow the shard function (migration 0006): ingest puts each user's events in the
/// partition of its shard hash, a shard of N users (N dividing 16) reads only its partitions, and a
/// user's own reads touch one partition.
final class ShardPartitionTests: IngestTestCase {
    /// 300 users (digits, non-ASCII and quoted ids among them), six events each in time order (spooled
    /// and sorted), then four more for every third user, user by user into the populated table (through
    /// the staging table), one of them already stored.
    private func ingestUsers() throws -> [String] {
        let users = ["1", "42", "user_1000", "u-0007", "José", "用户", "a'b"] + (0..<293).map { "u\($0)" }
        var byTime = "user,item,time\n"
        for e in 0..<6 { for (n, u) in users.enumerated() { byTime += "\(u),i\((n * 7 + e) % 40),\(1_000 + e)\n" } }
        var byUser = "user,item,time\n"
        for (n, u) in users.enumerated() where n % 3 == 0 { for e in 5..<9 { byUser += "\(u),i\((n * 7 + e) % 40),\(1_000 + e)\n" } }
        XCTAssertEqual(try ingest(write("by-time.csv", byTime), .csv).rowsLoaded, users.count * 6)
        let second = try ingest(write("by-user.csv", byUser), .csv)
        XCTAssertEqual(second.duplicates, 100, "event 5 of every third user was stored by the first batch")
        return users
    }

    func testEveryEventIsInItsUsersShardPartition() throws {
        let users = try ingestUsers()
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), users.count * 6 + 100 * 3)
        XCTAssertEqual(try count("""
            SELECT count(*) FROM interactions i JOIN users u ON u.id = i.user_id WHERE i.shard <> u.shard_hash % 16
            """), 0, "the partition ingest computed is PostgreSQL's shard hash mod 16")
        XCTAssertEqual(try count("SELECT count(DISTINCT tableoid) FROM interactions"), InteractionPartitions.count)
        for partition in try InteractionPartitions.list(db) {
            XCTAssertEqual(try count("SELECT count(*) FROM \(partition.table) WHERE shard <> \(partition.number!)"), 0, partition.table)
        }
        XCTAssertEqual(try db.query("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'interactions'::regclass").string(0, 0), "l")

        // A shard read keeps exactly the users the shard function gives it, whether it names partitions
        // (4 divides 16) or selects users by hash (3 does not).
        for shard in [try Shard(index: 1, count: 4), try Shard(index: 2, count: 3)] {
            var read = Set<Int32>()
            try InteractionReader.inSnapshot(db) { reader in
                for partition in try reader.partitions(of: shard) {
                    try reader.events(of: partition.table, filter: .init(shard: shard)) { read.insert($0.user) }
                }
            }
            let ids = try UserTable(db).externalIds()
            XCTAssertEqual(Set(read.map { ids[$0]! }), Set(users.filter(shard.owns)), "shard \(shard)")
        }
    }

    /// The scans a statement's plan runs (`Actual Loops` > 0 under ANALYZE), by relation name.
    private func scannedRelations(_ sql: String, _ parameters: [PostgresValue] = [], analyze: Bool) throws -> Set<String> {
        let text = try db.query("EXPLAIN (\(analyze ? "ANALYZE, " : "")FORMAT JSON) \(sql)", parameters).string(0, 0)!
        var found = Set<String>()
        func walk(_ node: Any) {
            if let object = node as? [String: Any] {
                if let name = object["Relation Name"] as? String, !analyze || (object["Actual Loops"] as? Int ?? 0) > 0 { found.insert(name) }
                object.values.forEach(walk)
            } else if let array = node as? [Any] {
                array.forEach(walk)
            }
        }
        walk(try JSONSerialization.jsonObject(with: Data(text.utf8)))
        return found
    }

    func testAShardReadTouchesOnlyItsPartitions() throws {
        _ = try ingestUsers()
        try db.execute("ANALYZE interactions")
        let shard = try Shard(index: 1, count: 4)
        let own: Set = ["interactions_p01", "interactions_p05", "interactions_p09", "interactions_p13"]
        XCTAssertEqual(try InteractionReader.inSnapshot(db) { try $0.partitions(of: shard) }.map(\.table), own.sorted())
        let query = InteractionReader.eventsQuery(of: "interactions", filter: .init(shard: shard))
        XCTAssertEqual(try scannedRelations(query, analyze: false), own, "planned")
        XCTAssertEqual(try scannedRelations(query, analyze: true), own, "run")
        // 16 shards: one partition each.
        XCTAssertEqual(try scannedRelations(InteractionReader.eventsQuery(of: "interactions", filter: .init(shard: try Shard(index: 7, count: 16))),
                                            analyze: true), ["interactions_p07"])
        // A count that does not divide 16 selects users by hash in every partition.
        XCTAssertEqual(try scannedRelations(InteractionReader.eventsQuery(of: "interactions", filter: .init(shard: try Shard(index: 0, count: 3))),
                                            analyze: true).filter { $0.hasPrefix("interactions_p") }.count, InteractionPartitions.count)
    }

    func testAUsersOwnReadsTouchOnlyTheirPartition() throws {
        _ = try ingestUsers()
        try db.execute("ANALYZE interactions")
        for (user, events) in [("José", 6), ("u17", 9), ("42", 6)] {
            let id = try db.query("SELECT id FROM users WHERE external_id = $1", [.text(user)]).int(0, 0)!
            let partition = String(format: "interactions_p%02d", Int(InteractionPartitions.partition(ofUser: user.utf8)))
            XCTAssertEqual(try scannedRelations(UserTable.historySQL, [.int(id)], analyze: true), ["users", partition], user)
            XCTAssertEqual(try scannedRelations(UserTable.newestEventSQL, [.text(user)], analyze: true), ["users", partition], user)
            XCTAssertEqual(try UserTable(db).history(of: id).count, events, "\(user)'s events, read through its partition")
        }
    }
}
