import Foundation
import XCTest
import PleatModel
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

        let jsonFile = fixture.directory.appendingPathComponent("lists.jsonl").path
        let summary = try PleatCommand.run(["export", "recommendations", "--cache", fixture.cachePath, "--output", jsonFile, "--json"], databaseURL: fixture.url)
        XCTAssertEqual(summary.stdout.trimmingCharacters(in: .newlines),
                       #"{"file":"\#(jsonFile)","format":"jsonl","lists":\#(report.users),"model_id":"\#(fixture.sasrec.id)"}"#, summary.stderr)
        XCTAssertEqual(try String(contentsOfFile: jsonFile, encoding: .utf8), jsonl.stdout, "the file holds what stdout had")
    }

    /// `models export-embeddings`: the .npy holds the item table's rows (padding left out) in the
    /// vocabulary's order, which the ids file names; the CSV the same numbers with their ids.
    func testItemEmbeddingsLeaveAsNpyAndCSV() throws {
        guard FileManager.default.isExecutableFile(atPath: TestDatabase.pleatExecutable.path) else { throw XCTSkip("pleat is not built") }
        let fixture = try WalkFixture()
        defer { fixture.remove() }
        let artifact = try ModelArtifact.load(from: URL(fileURLWithPath: fixture.sasrec.artifactPath))
        let table = try XCTUnwrap(try artifact.makeModel(batchSize: 1).store["item_emb.weight"]).value
        let items = artifact.vocabulary.count, d = table.columns
        let npy = fixture.directory.appendingPathComponent("emb.npy").path
        let run = try PleatCommand.run(["models", "export-embeddings", fixture.sasrec.id, "--output", npy, "--json"], databaseURL: fixture.url)
        XCTAssertEqual(run.status, 0, run.stderr)
        let data = try Data(contentsOf: URL(fileURLWithPath: npy))
        XCTAssertEqual(Array(data.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0, "data aligned to 64 bytes")
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.contains("'descr': '<f4'") && header.contains("'shape': (\(items), \(d))"), header)
        let values = data[(10 + headerLength)...].withUnsafeBytes { raw in (0..<(raw.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        XCTAssertEqual(values, Array(table.array[d..<((items + 1) * d)]))
        let ids = try String(contentsOfFile: fixture.directory.appendingPathComponent("emb.ids.txt").path, encoding: .utf8)
        XCTAssertEqual(ids.split(separator: "\n").map(String.init), Array(artifact.vocabulary.externalIds[1...items]))

        let csv = fixture.directory.appendingPathComponent("emb.csv").path
        XCTAssertEqual(try PleatCommand.run(["models", "export-embeddings", fixture.sasrec.id, "--output", csv], databaseURL: fixture.url).status, 0)
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, items + 1)
        let second = rows[2].split(separator: ",")
        XCTAssertEqual(String(second[0]), artifact.vocabulary.externalIds[2])
        XCTAssertEqual(second.dropFirst().map { Float(String($0))! }, Array(table.array[(2 * d)..<(3 * d)]))
    }

    func testCSVFieldsAreQuotedWhenTheyMustBe() {
        XCTAssertEqual(RecommendationExport.csvField("plain"), "plain")
        XCTAssertEqual(RecommendationExport.csvField("a,b"), "\"a,b\"")
        XCTAssertEqual(RecommendationExport.csvField("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(RecommendationExport.csvField("two\nlines"), "\"two\nlines\"")
    }
}
