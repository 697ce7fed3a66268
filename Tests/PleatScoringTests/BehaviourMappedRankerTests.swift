import XCTest
import PleatTensor
import PleatModel
@testable import PleatScoring

/// A model evaluated in a database that numbers the event types differently reads its own ids.
final class BehaviourMappedRankerTests: XCTestCase {
    /// Records the behaviours it is asked about; scores nothing.
    private final class Recorder: ItemRanker {
        let batchSize = 2, items = 3
        var seen: [[Int16]] = []
        func scores(_ queries: [ScoringQuery], into scores: Tensor) { seen += queries.map { Array($0.history.behaviours ?? []) } }
    }

    func testDatabaseIdsReachTheModelAsItsOwn() {
        let recorder = Recorder()
        // Database ids 1, 2, 3 are the model's 3, 1, 2; database id 4 is a type the model does not know.
        let ranker = BehaviourMappedRanker(model: recorder, index: [0, 3, 1, 2])
        let history = EventSequence(items: [1, 2, 3, 1], times: [1, 2, 3, 4], behaviours: [1, 2, 3, 4])
        ranker.scores([ScoringQuery(history: history, time: 5)], into: Tensor([2, 4]))
        XCTAssertEqual(recorder.seen, [[3, 1, 2, 0]])
        XCTAssertTrue(BehaviourMappedRanker.isIdentity([0, 1, 2]))
        XCTAssertFalse(BehaviourMappedRanker.isIdentity([0, 2, 1]))
    }
}
