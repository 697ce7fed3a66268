import Foundation
import XCTest
import PleatIngest
import PleatStorage

/// Each supported format loads into the same tables with the same meaning.
final class FormatIngestTests: IngestTestCase {
    func testCSVWithHeaderMappingQuotingAndMixedTimeFormats() throws {
        let path = try write("log.csv", """
            visitor,product,when,action,amount
            alice,"book, hardcover",2024-05-01T10:00:00Z,view,
            alice,pen,1714557600,purchase,2.5
            bob,"multi
            line",1714557600000,view,1
            "bob",cup,2024-05-01 12:00:00+02:00,view,3

            """)
        let report = try ingest(path, .csv, mapping: ColumnMapping(user: "visitor", item: "product", time: "when", event: "action", value: "amount"))
        XCTAssertEqual(report.status, .committed)
        XCTAssertEqual(report.rowsRead, 4)
        XCTAssertEqual(report.rowsLoaded, 4)
        XCTAssertEqual(report.newUsers, 2)
        let alice = try history("alice")
        XCTAssertEqual(alice.map(\.0), ["book, hardcover", "pen"])
        XCTAssertEqual(alice[0].1, 1_714_557_600)  // 2024-05-01T10:00:00Z
        XCTAssertEqual(alice[1].2, "purchase")
        XCTAssertEqual(alice[1].3, 2.5)
        XCTAssertNil(alice[0].3, "empty value is NULL")
        let bob = try history("bob")
        XCTAssertEqual(bob.map(\.0), ["multi\nline", "cup"], "ms timestamp and ISO with offset are the same instant")
        XCTAssertEqual(bob[0].1, 1_714_557_600)
        XCTAssertEqual(bob[1].1, 1_714_557_600)
    }

    func testCSVDefaultsFindCommonColumnNames() throws {
        let path = try write("log.csv", "user_id,item_id,timestamp,rating\nu1,i1,100,4\nu1,i2,200,5\n")
        let report = try ingest(path, .csv)
        XCTAssertEqual(report.rowsLoaded, 2)
        XCTAssertEqual(try history("u1").map(\.2), ["rating", "rating"], "a rating column names the event type")
    }

    func testMissingMappedColumnFailsBeforeLoading() throws {
        let path = try write("log.csv", "a,b,c\n1,2,3\n")
        XCTAssertThrowsError(try ingest(path, .csv)) { error in
            XCTAssertTrue("\(error)".contains("user"), "\(error)")
        }
        XCTAssertThrowsError(try ingest(path, .csv, mapping: ColumnMapping(user: "a", item: "b", time: "nope")))
        XCTAssertEqual(try count("SELECT count(*) FROM ingest_batches"), 0, "nothing recorded")
    }

    func testTSV() throws {
        let path = try write("log.tsv", "user\titem\ttime\nu1\ti1\t2024-01-01\nu1\ti2\t2024-01-02\nu2\ti1\t2024-01-03\n")
        let report = try ingest(path, .tsv)
        XCTAssertEqual(report.rowsLoaded, 3)
        XCTAssertEqual(try history("u1").map(\.0), ["i1", "i2"])
        XCTAssertEqual(try history("u2")[0].1, 1_704_240_000)
    }

    func testJSONLines() throws {
        let path = try write("log.jsonl", """
            {"user_id": "u1", "item_id": 10, "timestamp": 1000, "event": "click", "value": 1.5}
            {"user_id": "u1", "item_id": "11", "timestamp": "1970-01-01T00:20:00Z", "event": "view"}
            {"user_id": 7, "item_id": 10, "timestamp": 3000, "event": "view", "value": null}

            """)
        let report = try ingest(path, .jsonl)
        XCTAssertEqual(report.rowsLoaded, 3)
        XCTAssertEqual(try history("u1").map { "\($0.0)@\(Int($0.1)):\($0.2)" }, ["10@1000:click", "11@1200:view"])
        XCTAssertEqual(try history("u1")[0].3, 1.5)
        XCTAssertEqual(try history("7").count, 1, "numeric ids become their text")
    }

    func testMovieLensRatingsDatAndUData() throws {
        let dat = try write("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n")
        XCTAssertEqual(try ingest(dat, .movielens).rowsLoaded, 3)
        XCTAssertEqual(try history("1").map(\.0), ["1193", "661"])
        XCTAssertEqual(try history("1")[0].3, 5)
        XCTAssertEqual(try history("1")[0].2, "rating")

        let udata = try write("u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t377\t1\t878887116\n")
        XCTAssertEqual(try ingest(udata, .movielens).rowsLoaded, 3)
        XCTAssertEqual(try history("196").map(\.0), ["377", "242"])
    }

    func testMovieLensItemFiles() throws {
        let data = try write("u.data", "1\t1\t5\t100\n1\t2\t3\t200\n")
        let flags = { (on: [Int]) in (0..<19).map { on.contains($0) ? "1" : "0" }.joined(separator: "|") }
        let uitem = try write("u.item", "1|Toy Story (1995)|01-Jan-1995||http://x|\(flags([3, 4, 5]))\n2|GoldenEye (1995)|01-Jan-1995||http://y|\(flags([1, 2, 16]))\n")
        let report = try ingest(data, .movielens, items: uitem)
        XCTAssertEqual(report.itemsDescribed, 2)
        let row = try db.query("SELECT m.category, array_to_string(m.genres, ','), m.title FROM item_metadata m JOIN items i ON i.id = m.item_id WHERE i.external_id = '1'")
        XCTAssertEqual(row.string(0, 0), "Animation")
        XCTAssertEqual(row.string(0, 1), "Animation,Children's,Comedy")
        XCTAssertEqual(row.string(0, 2), "Toy Story (1995)")

        let movies = try write("movies.dat", "1::Toy Story (1995)::Animation|Children's|Comedy\n3::Heat (1995)::Action|Crime\n")
        let dat = try write("ratings.dat", "9::3::4::978300760\n")
        XCTAssertEqual(try ingest(dat, .movielens, items: movies).itemsDescribed, 2)
        XCTAssertEqual(try db.query("SELECT m.category FROM item_metadata m JOIN items i ON i.id = m.item_id WHERE i.external_id = '3'").string(0, 0), "Action")
    }

    func testRecBoleInterAndItemFiles() throws {
        let inter = try write("x.inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t10\t4\t881250949\n1\t11\t5\t881250950.5\n")
        let item = try write("x.item", "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n10\tToy Story\t1995\tAnimation Children's Comedy\n11\tHeat\t1995\tAction Crime\n12\tUnseen\t1990\tDrama\n")
        let report = try ingest(inter, .recbole, items: item)
        XCTAssertEqual(report.rowsLoaded, 2)
        XCTAssertEqual(report.itemsDescribed, 3)
        XCTAssertEqual(report.newItems, 3, "items described but not yet interacted with join the catalogue")
        XCTAssertEqual(try history("1")[1].1, 881_250_950.5)
        let genres = try db.query("SELECT array_to_string(genres, ' '), category FROM item_metadata m JOIN items i ON i.id = m.item_id WHERE external_id = '10'")
        XCTAssertEqual(genres.string(0, 0), "Animation Children's Comedy")
        XCTAssertEqual(genres.string(0, 1), "Animation")
    }

    /// A chosen metadata column becomes the category (the fold key); a chosen column that is missing
    /// stops with the file and the column's name.
    func testChosenCategoryColumn() throws {
        let inter = try write("c.csv", "user_id,item_id,timestamp\nu,a,1\nu,b,2\n")
        let items = try write("c.items.csv", "item_id,brand,genre\na,Acme,Drama\nb,Zeta,Comedy|Drama\n")
        _ = try ingest(inter, .csv, mapping: ColumnMapping(category: "Brand"), items: items)
        XCTAssertEqual(try db.query("SELECT m.category FROM item_metadata m JOIN items i ON i.id = m.item_id WHERE i.external_id = 'b'").string(0, 0), "Zeta")
        let jsonl = try write("c.items.jsonl", #"{"item_id": "a", "brand": "Omega", "genre": "Drama"}"# + "\n")
        _ = try ingest(inter, .csv, mapping: ColumnMapping(category: "brand"), items: jsonl, itemsFormat: .jsonl)
        XCTAssertEqual(try db.query("SELECT m.category FROM item_metadata m JOIN items i ON i.id = m.item_id WHERE i.external_id = 'a'").string(0, 0), "Omega")
        XCTAssertThrowsError(try ingest(inter, .csv, mapping: ColumnMapping(category: "shelf"), items: items)) {
            XCTAssertTrue("\($0)".contains("no category column 'shelf'") && "\($0)".contains("c.items.csv"), "\($0)")
        }
    }

    func testPairsUseFileOrderAsTime() throws {
        let path = try write("seq.txt", "u1 i3\nu2 i1\nu1 i1\nu1 i3\n")
        let report = try ingest(path, .pairs)
        XCTAssertEqual(report.rowsLoaded, 4)
        let u1 = try history("u1")
        XCTAssertEqual(u1.map(\.0), ["i3", "i1", "i3"], "repeat consumption is kept; order is the file's")
        XCTAssertEqual(u1.map(\.1), [1, 3, 4], "ordinal time: second N is line N")
    }

    /// `sequences`: one user per line; item j gets second j; a bad id rejects its whole line (nothing of
    /// it loads), a second line for a user is rejected naming the first, and the other lines load.
    func testSequencesGiveOrdinalTimesPerLine() throws {
        let path = try write("seqs.txt", "u1 i3 i1 i3\n\nu2\ti9  i8\r\nu3 ok \u{01}bad\nlonely\nu1 i7\nu4 i1\n")
        let report = try ingest(path, .sequences)
        XCTAssertEqual(report.rowsRead, 6, "lines, blank ones aside")
        XCTAssertEqual(report.rowsLoaded, 6, "events: 3 + 2 + 1")
        XCTAssertEqual(report.rowsRejected, 3)
        let u1 = try history("u1")
        XCTAssertEqual(u1.map(\.0), ["i3", "i1", "i3"], "in line order, repeats kept")
        XCTAssertEqual(u1.map(\.1), [1, 2, 3], "item j at second j")
        XCTAssertEqual(try history("u2").map(\.0), ["i9", "i8"])
        XCTAssertEqual(try history("u3").count, 0, "a line with a bad id loads nothing")
        XCTAssertEqual(try history("u4").map(\.1), [1])
        let reasons = try rejects(report.batchId)
        XCTAssertEqual(reasons.map(\.0), [4, 5, 6])
        XCTAssertTrue(reasons[0].1.hasPrefix("control character") && reasons[0].1.contains("column 3"), reasons[0].1)
        XCTAssertTrue(reasons[1].1.contains("a user and at least one item"), reasons[1].1)
        XCTAssertEqual(reasons[2].1, "user on a second line: 'u1' already has line 1")
    }

    func testDenseIdsContinueAcrossBatches() throws {
        _ = try ingest(try write("a.csv", "user,item,time\na,x,1\nb,y,2\n"), .csv)
        _ = try ingest(try write("b.csv", "user,item,time\nc,x,3\na,z,4\n"), .csv)
        XCTAssertEqual(try count("SELECT max(id) FROM users"), 3)
        XCTAssertEqual(try count("SELECT count(*) FROM users"), 3)
        XCTAssertEqual(try count("SELECT max(id) FROM items"), 3)
    }
}
