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

    /// A mapped model still scores by blocks, with the mapped behaviours: its blocked top-K equals its
    /// full rows' (so evaluation past its memory budget ranks by blocks for it too).
    func testAMappedModelScoresByBlocksWithTheModelsIds() {
        var spec = ModelSpec(kind: .sasrec, maxLength: 8)
        spec.sasrec.encoder.dimension = 16
        (spec.behaviour.input, spec.behaviour.types) = (.embedding, 3)
        let model = spec.makeModel(batchSize: 2, seed: 4, items: 1_500)
        let mapped = BlockScoredBehaviourMappedRanker(model: model, index: [0, 3, 1, 2])
        let query = ScoringQuery(history: EventSequence(items: [5, 9, 700], times: [1, 2, 3], behaviours: [1, 2, 3]), time: 4)
        let full = Tensor([2, 1_501])
        mapped.scores([query], into: full)
        let own = Tensor([2, 1_501])
        model.scores([ScoringQuery(history: EventSequence(items: [5, 9, 700], times: [1, 2, 3], behaviours: [3, 1, 2]), time: 4)], into: own)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: full.pointer, count: 1_501)), Array(UnsafeBufferPointer(start: own.pointer, count: 1_501)),
                       "the database's ids 1, 2, 3 reach the model as 3, 1, 2")
        let blocked = mapped.itemScoring(for: [query]).topK(k: 5, excluding: [[]], scratch: Tensor([2, ItemScoring.blockColumns]))[0]
        var row = Array(UnsafeBufferPointer(start: full.pointer, count: 1_501))
        row[0] = -.infinity
        let best = (1...1_500).sorted { (row[$0], -$0) > (row[$1], -$1) }.prefix(5).map(Int32.init)
        // The same items, but for near-equal scores that the blocks' products may round apart (BlockedTopKTests).
        XCTAssertEqual(blocked.items.count, 5)
        for (got, want) in zip(blocked.items, best) where got != want {
            XCTAssertEqual(row[Int(got)], row[Int(want)], accuracy: 1e-5 * max(1, abs(row[Int(want)])))
        }
    }
}
