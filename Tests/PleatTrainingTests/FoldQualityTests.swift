import XCTest
import PleatCore
@testable import PleatTraining

/// Issue 5's long-range check: the next item depends on a category last seen 1,050 events earlier
/// (`FoldQualityBenchmark`). HSTU folded by category must beat the same HSTU on the last 200 events.
final class FoldQualityTests: XCTestCase {
    func testFoldedHSTURecallsACategoryFromMoreThan1000EventsBack() throws {
        let epochs = Int(ProcessInfo.processInfo.environment["PLEAT_FOLD_QUALITY_EPOCHS"] ?? "") ?? 40
        let start = Date()
        let result = try FoldQualityBenchmark(epochs: epochs).run()
        print(String(format: "fold quality (%d epochs, %.0f s): validation NDCG@10 folded %.4f, last 200 events only %.4f",
                     epochs, Date().timeIntervalSince(start), result.foldedValidNdcg10, result.windowOnlyValidNdcg10))
        XCTAssertGreaterThan(result.foldedValidNdcg10, 2 * result.windowOnlyValidNdcg10, "folded clearly ahead")
        XCTAssertGreaterThan(result.foldedValidNdcg10 - result.windowOnlyValidNdcg10, 0.03, "by a clear absolute margin")
    }
}
