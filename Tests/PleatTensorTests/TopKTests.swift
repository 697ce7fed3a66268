import XCTest
import PleatCore
import PleatTensor

final class TopKTests: XCTestCase {
    /// Against a full sort (score descending, then index ascending) on rows with ties and −∞ entries.
    func testMatchesAFullSort() {
        var rng = RandomSource(seed: 3)
        for trial in 0..<200 {
            let n = 1 + rng.below(300), k = 1 + rng.below(40)
            // Few distinct values, so that ties are common.
            let row: [Float] = (0..<n).map { _ in rng.below(10) == 0 ? -.infinity : Float(rng.below(25)) }
            var indices = [Int32](repeating: -1, count: k), scores = [Float](repeating: 0, count: k)
            let found = TopK.select(row, count: n, k: k, indices: &indices, scores: &scores)
            let expected = (0..<n).filter { row[$0] > -.infinity }.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }.prefix(k)
            XCTAssertEqual(found, expected.count, "trial \(trial)")
            XCTAssertEqual(Array(indices.prefix(found)), expected.map { Int32($0) }, "trial \(trial)")
            XCTAssertEqual(Array(scores.prefix(found)), expected.map { row[$0] }, "trial \(trial)")
        }
    }
}

extension TopKTests {
    /// A row offered in pieces (as scoring's blocks do) selects what the whole row selects.
    func testPiecesSelectWhatTheWholeRowSelects() {
        var rng = RandomSource(seed: 8)
        for trial in 0..<200 {
            let n = 1 + rng.below(500), k = 1 + rng.below(60)
            let row: [Float] = (0..<n).map { _ in rng.below(10) == 0 ? -.infinity : Float(rng.below(40)) }
            var whole = ([Int32](repeating: -1, count: k), [Float](repeating: 0, count: k))
            let wholeCount = TopK.select(row, count: n, k: k, indices: &whole.0, scores: &whole.1)
            var pieces = ([Int32](repeating: -1, count: k), [Float](repeating: 0, count: k))
            let piecesCount = pieces.0.withUnsafeMutableBufferPointer { indices in
                pieces.1.withUnsafeMutableBufferPointer { scores in
                    var selection = TopK.Selection(k: k, indices: indices.baseAddress!, scores: scores.baseAddress!)
                    var first = 0
                    row.withUnsafeBufferPointer { row in
                        while first < n {
                            let width = min(n - first, rng.below(40))
                            selection.offer(row.baseAddress! + first, count: width, firstIndex: first)
                            first += width
                        }
                    }
                    return selection.finish()
                }
            }
            XCTAssertEqual(piecesCount, wholeCount, "trial \(trial)")
            XCTAssertEqual(pieces.0.prefix(piecesCount), whole.0.prefix(wholeCount), "trial \(trial)")
            XCTAssertEqual(pieces.1.prefix(piecesCount), whole.1.prefix(wholeCount), "trial \(trial)")
        }
    }
}
