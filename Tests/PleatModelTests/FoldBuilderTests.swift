import XCTest
import PleatCore
import PleatEncoders
@testable import PleatModel

/// The fold statistics a behaviour-aware folded model reads: per fold, each behaviour's count and the
/// days since its last event, beside the fold's own count and recency.
final class FoldBuilderTests: XCTestCase {
    func testFoldsCountEachBehaviourAndItsRecency() {
        var shape = FoldedEncoder.Shape()
        (shape.groups, shape.groupLength, shape.keys) = (2, 2, 2)
        // Items 1-2 have key 1, items 3-4 key 2.
        let builder = FoldBuilder(keys: .perItem([0, 1, 1, 2, 2], count: 2), shape: shape, batch: 1, window: 2, behaviourTypes: 2)
        let batch = SequenceBatch(batch: 1, length: shape.groups + 2, behaviourTypes: 2)
        let day: Int64 = 86_400, start = 10 * day
        // Key 1: behaviour 1 at days 1 and 3, behaviour 2 at day 2 (3 events, only the last 2 kept in the fold).
        // Key 2: behaviour 2 at day 4, one event without a behaviour at day 5.
        let older = EventSequence(items: [1, 2, 1, 3, 4], times: [1 * day, 2 * day, 3 * day, 4 * day, 5 * day],
                                  behaviours: [1, 2, 1, 2, 0])
        let folds = builder.fold(older, windowStart: start, row: 0, batch: batch)
        XCTAssertEqual(folds, 2)
        let n = builder.inputs.statisticCount
        XCTAssertEqual(n, 6)
        func days(_ d: Double) -> Float { Float(log1p(d)) }
        // Folds go in oldest-active first: key 1 (last event day 3) then key 2 (day 5).
        XCTAssertEqual(builder.inputs.foldKeys[0...1], [1, 2])
        let key1 = Array(builder.inputs.foldStatistics[0..<n]), key2 = Array(builder.inputs.foldStatistics[n..<(2 * n)])
        XCTAssertEqual(key1, [Float(log1p(3.0)), days(7), Float(log1p(2.0)), days(7), Float(log1p(1.0)), days(8)])
        XCTAssertEqual(key2, [Float(log1p(2.0)), days(5), 0, 0, Float(log1p(1.0)), days(6)])
        XCTAssertEqual(builder.inputs.foldBehaviours[0..<2], [2, 1], "the fold's kept events carry their behaviours")
    }
}
