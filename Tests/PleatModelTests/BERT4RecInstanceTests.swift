import XCTest
import PleatCore
import PleatHistories
@testable import PleatModel

/// BERT4Rec's next-item instance (`bert4rec.last_item`): the last event of the window under
/// `separate-instance`; under `random-prefix` the sequence cut at a random event of the window, which
/// varies from draw to draw and never falls before the window.
final class BERT4RecInstanceTests: XCTestCase {
    private func model(_ lastItem: BERT4RecSettings.LastItem, window: Int) -> BERT4RecModel {
        var spec = ModelSpec(kind: .bert4rec, maxLength: window)
        spec.bert4rec.encoder.dimension = 16
        spec.bert4rec.lastItem = lastItem
        return spec.makeModel(batchSize: 4, seed: 1, items: 100) as! BERT4RecModel  // swiftlint:disable:this force_cast
    }

    private func sequence(_ count: Int) -> EventSequence {
        let items = (0..<count).map { Int32(1 + $0) }
        return EventSequence(items: items[...], times: items.map { Int64($0) * 10 }[...])
    }

    func testRandomPrefixesEndInsideTheWindowAndVary() {
        let window = 8, bert = model(.randomPrefix, window: window)
        var rng = RandomSource(seed: 3)
        for count in [1, 2, 5, 8, 30] {
            let s = sequence(count)
            var ends = Set<Int>()
            for _ in 0..<200 {
                let prefix = bert.nextItemInstance(s, offset: 0, rng: &rng)
                XCTAssertEqual(prefix.items.startIndex, s.items.startIndex, "a prefix starts where the sequence does")
                let end = prefix.items.count
                XCTAssertTrue(end == count || end >= 2, "at least one event before the masked one (count \(count))")
                XCTAssertGreaterThanOrEqual(end, count - window + 1, "the masked event is one the window holds (count \(count))")
                XCTAssertLessThanOrEqual(end, count)
                ends.insert(end)
            }
            // Every allowed end is drawn: from the second event (or the window's first) to the last.
            let lowest = min(count, max(2, count - window + 1))
            XCTAssertEqual(ends, Set(lowest...count), "count \(count)")
        }
        // Fold tokens take room in the row: the window's events that remain are fewer.
        let s = sequence(30)
        for _ in 0..<100 {
            XCTAssertGreaterThanOrEqual(bert.nextItemInstance(s, offset: 3, rng: &rng).items.count, 30 - (window - 3) + 1)
        }
    }

    func testSeparateInstanceIsTheWholeWindowAndDrawsNothing() {
        let bert = model(.separateInstance, window: 8)
        var rng = RandomSource(seed: 3), untouched = RandomSource(seed: 3)
        XCTAssertEqual(Array(bert.nextItemInstance(sequence(30), offset: 0, rng: &rng).items), Array(sequence(30).items))
        XCTAssertEqual(rng.below(1_000_000), untouched.below(1_000_000), "the default draws no randomness: its weights are unchanged")
    }

    /// One training step under each rule: a finite loss over the Cloze labels plus one next-item label per
    /// user.
    func testATrainingStepLabelsOneNextItemPerUser() {
        for lastItem in [BERT4RecSettings.LastItem.separateInstance, .randomPrefix] {
            let bert = model(lastItem, window: 8)
            var rng = RandomSource(seed: 5)
            let loss = bert.trainStep([sequence(3), sequence(8), sequence(30), sequence(1)], rng: &rng)
            XCTAssertTrue(loss.isFinite, "\(lastItem)")
            // Cloze: max(1, round(0.2 × length)) of each window (3, 8, 8, 1 events), plus one per user.
            XCTAssertEqual(bert.lossTerms, (1 + 2 + 2 + 1) + 4, "\(lastItem)")
        }
    }
}
