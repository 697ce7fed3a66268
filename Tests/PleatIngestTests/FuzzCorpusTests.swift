import Foundation
import XCTest
import PleatCore
import PleatTestSupport

/// The fuzz targets' seed corpus (and the inputs fuzzing once found: `regression-*`), replayed through
/// the same check as `scripts/fuzz.sh` by the `pleat-fuzz` binary of this build.
final class FuzzCorpusTests: XCTestCase {
    func testEverySeedAndRegressionInputPassesTheParserCheck() throws {
        let driver = TestDatabase.pleatExecutable.deletingLastPathComponent().appendingPathComponent("pleat-fuzz").path
        guard FileManager.default.isExecutableFile(atPath: driver) else { throw XCTSkip("pleat-fuzz is not built at \(driver)") }
        let corpus = TestDatabase.repositoryRoot.appendingPathComponent("Tests/Fuzz/corpus")
        let targets = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()
        XCTAssertEqual(targets, ["csv", "items", "jsonl", "movielens", "pairs", "recbole", "sequences", "tsv"])
        for target in targets {
            let directory = corpus.appendingPathComponent(target)
            let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map { directory.appendingPathComponent($0).path }
            XCTAssertFalse(files.isEmpty, target)
            let outcome = try Subprocess.capture(driver, [target] + files)
            XCTAssertTrue(outcome.succeeded, "\(target): \(outcome.output)")
        }
    }
}
