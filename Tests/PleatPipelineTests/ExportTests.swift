import Foundation
import XCTest
import PleatScoring
import PleatTestSupport

/// What leaves Pleat as files is what it serves.
final class ExportTests: XCTestCase {
    /// The CSV export of a cache, read back, is for every user what `pleat recommend` answers (items,
    /// order and scores); the JSON lines hold the same lists, one a line.
    func testTheCSVExportIsWhatRecommendAnswersForEveryUser() throws {
        guard FileManager.default.isExecutableFile(atPath: TestDatabase.pleatExecutable.path) else { throw XCTSkip("pleat is not built") }
        let fixture = try WalkFixture()
        defer { fixture.remove() }
        let report = try fixture.score(fixture.sasrec, topK: 15)
        let csv = fixture.directory.appendingPathComponent("lists.csv").path
        let run = try PleatCommand.run(["export", "recommendations", "--cache", fixture.cachePath, "--output", csv], databaseURL: fixture.url)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("exported \(report.users) lists of \(fixture.sasrec.id)"), run.stderr)

        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(rows.first, ["user_id", "event", "rank", "item_id", "score", "model_id", "computed_at"])
        var exported: [String: [(item: String, score: Float)]] = [:]
        for row in rows.dropFirst() {
            XCTAssertEqual(row.count, 7)
            XCTAssertEqual(Int(row[2]), (exported[row[0]]?.count ?? 0) + 1, "ranks in order from 1")
            XCTAssertEqual(row[5], fixture.sasrec.id)
            exported[row[0], default: []].append((row[3], try XCTUnwrap(Float(row[4]))))
        }
        XCTAssertEqual(exported.count, report.users)
        let recommender = try Recommender(databaseURL: fixture.url, cachePath: fixture.cachePath)
        for (user, list) in exported {
            let answer = try recommender.recommend(user: user, k: 15)
            XCTAssertEqual(answer.source, .cache, user)
            XCTAssertEqual(answer.items.map(\.item), list.map(\.item), user)
            XCTAssertEqual(answer.items.map(\.score), list.map(\.score), user)
        }

        let jsonl = try PleatCommand.run(["export", "recommendations", "--cache", fixture.cachePath, "--format", "jsonl"], databaseURL: fixture.url)
        let lines = jsonl.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, report.users)
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let user = try XCTUnwrap(first["user"] as? String)
        XCTAssertEqual((first["items"] as? [[String: Any]])?.compactMap { $0["item"] as? String }, exported[user]?.map(\.item))
    }

    func testCSVFieldsAreQuotedWhenTheyMustBe() {
        XCTAssertEqual(RecommendationExport.csvField("plain"), "plain")
        XCTAssertEqual(RecommendationExport.csvField("a,b"), "\"a,b\"")
        XCTAssertEqual(RecommendationExport.csvField("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(RecommendationExport.csvField("two\nlines"), "\"two\nlines\"")
    }
}
