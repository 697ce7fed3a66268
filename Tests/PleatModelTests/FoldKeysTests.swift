import XCTest
import PleatHistories
@testable import PleatModel

/// A parent's frozen fold keys in a warm start's larger vocabulary (`FoldKeys.extended`).
final class FoldKeysTests: XCTestCase {
    /// Old items keep their keys; a new item takes its category's key (0 for a category the parent had
    /// no key for, or none), or with clusters the key of items the cluster source did not know.
    func testNewItemsGetKeysByTheRuleThatMadeTheParentsKeys() throws {
        let vocabulary = ItemVocabulary(databaseIds: [0, 10, 11, 12, 20, 21, 22])  // 20, 21, 22 are new
        let categories: [Int32: String] = [10: "a", 11: "b", 12: "a", 20: "b", 21: "c"]
        let byCategory = FoldKeys.perItem([0, 1, 2, 1], count: 2, names: ["a", "b"])
        XCTAssertEqual(try byCategory.extended(to: vocabulary, rule: .category, categories: { categories }),
                       .perItem([0, 1, 2, 1, 2, 0, 0], count: 2, names: ["a", "b"]))
        let byCluster = FoldKeys.perItem([0, 3, 1, 2], count: 4)  // 3 clusters and the unknown key 4
        XCTAssertEqual(try byCluster.extended(to: vocabulary, rule: .cluster, categories: { XCTFail("clusters read no categories"); return [:] }),
                       .perItem([0, 3, 1, 2, 4, 4, 4], count: 4))
        let byTime = FoldKeys.timeWindow(seconds: 86_400, count: 8)
        XCTAssertEqual(try byTime.extended(to: vocabulary, rule: .time, categories: { [:] }), byTime)
    }
}
