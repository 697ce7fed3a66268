import XCTest
import PleatHistories

/// Splits with target behaviours: only events of those behaviours are validation and test targets,
/// every event is history.
final class SequenceSplitTests: XCTestCase {
    let view: Int16 = 1, buy: Int16 = 2

    private func histories(_ users: [[(item: Int32, behaviour: Int16, time: Int64)]]) -> InteractionHistories {
        var h = InteractionHistories()
        for (u, events) in users.enumerated() {
            for e in events { h.append(user: Int32(u + 1), item: e.item, time: e.time, behaviour: e.behaviour) }
        }
        h.finish()
        return h
    }

    private func ids(_ split: SequenceSplit, _ indices: some Sequence<Int32>) -> [Int32] {
        indices.map { split.vocabulary.databaseIds[Int($0)] }
    }

    func testLeaveOneOutHoldsOutTheLastTwoTargetsAndKeepsEveryBehaviourAsHistory() {
        let h = histories([
            [(10, view, 1), (11, buy, 2), (12, view, 3), (13, buy, 4), (14, view, 5), (15, buy, 6), (16, view, 7)],
            [(10, buy, 1), (11, view, 2), (12, view, 3)],   // one purchase: trains only
            [(11, buy, 1), (12, buy, 2), (13, view, 3)],    // nothing before the validation purchase: trains only
            [(10, view, 1), (11, buy, 2), (12, buy, 3)],
        ])
        let split = SequenceSplit(h, targetBehaviours: [buy])
        let test = split.test(0)!, validation = split.validation(0)!
        XCTAssertEqual(ids(split, [test.target]), [15], "the last purchase, not the view after it")
        XCTAssertEqual(test.targetBehaviour, buy)
        XCTAssertEqual(ids(split, test.history), [10, 11, 12, 13, 14], "views and purchases alike")
        XCTAssertEqual(Array(test.historyBehaviours), [view, buy, view, buy, view])
        XCTAssertEqual(test.targetTime, 6)
        XCTAssertEqual(ids(split, [validation.target]), [13], "the purchase before it")
        XCTAssertEqual(ids(split, validation.history), [10, 11, 12])
        XCTAssertEqual(ids(split, split.trainSequence(0)), [10, 11, 12])
        XCTAssertEqual(Array(split.trainBehaviours(0)), [view, buy, view])
        XCTAssertEqual(ids(split, split.pastSequence(0)), [10, 11, 12, 13, 14], "a refit trains up to the test purchase")
        XCTAssertEqual(split.sequences[0].count, 6, "the view after the test purchase is its future")
        for user in [1, 2] {
            XCTAssertNil(split.test(user), "user slot \(user)")
            XCTAssertNil(split.validation(user))
            XCTAssertEqual(split.trainSequence(user).count, 3, "a user without targets to hold out trains on everything")
        }
        XCTAssertEqual(ids(split, [split.test(3)!.target, split.validation(3)!.target]), [12, 11])
        XCTAssertEqual(ids(split, split.trainSequence(3)), [10])
        XCTAssertTrue(split.isTarget(buy) && !split.isTarget(view))

        // Without target behaviours every event is a target: the plain leave-one-out.
        let plain = SequenceSplit(h)
        XCTAssertEqual(ids(plain, [plain.test(0)!.target, plain.validation(0)!.target]), [16, 15])
        XCTAssertEqual(ids(plain, [plain.test(2)!.target]), [13])
        XCTAssertTrue(plain.isTarget(view))
    }

    func testTimeSplitTestsTheFirstTargetAfterTheCutoff() {
        let h = histories([
            [(10, view, 1), (11, buy, 2), (12, view, 3), (13, view, 100), (14, buy, 101), (15, buy, 102)],
            [(11, buy, 1), (12, view, 2)],                  // no future; the only past purchase has nothing before it
            [(10, view, 100), (11, buy, 101)],              // no past: nothing to test
        ])
        let split = SequenceSplit(h, cutoff: 100, targetBehaviours: [buy])
        let test = split.test(0)!
        XCTAssertEqual(ids(split, [test.target]), [14], "the first purchase from the cutoff on")
        XCTAssertEqual(ids(split, test.history), [10, 11, 12, 13], "with the view between the cutoff and it")
        XCTAssertEqual(ids(split, [split.validation(0)!.target]), [11], "the last purchase before the cutoff")
        XCTAssertEqual(ids(split, split.trainSequence(0)), [10])
        XCTAssertEqual(ids(split, split.pastSequence(0)), [10, 11, 12], "training never sees the cutoff's future")
        XCTAssertNil(split.test(1))
        XCTAssertNil(split.validation(1))
        XCTAssertEqual(split.trainSequence(1).count, 2)
        XCTAssertNil(split.test(2))
        XCTAssertTrue(split.testExamples.allSatisfy { $0.targetTime >= 100 && split.isTarget($0.targetBehaviour) })
    }

    /// Kept, the events after the test target are every later target, each from every event before it
    /// (what a period's live scoring meets); training and the test target stay as without them.
    func testTimeSplitKeepsEveryLaterTargetWhenAsked() {
        let h = histories([
            [(10, view, 1), (11, buy, 2), (12, view, 3), (13, view, 100), (14, buy, 101), (15, buy, 102), (16, view, 103), (17, buy, 104)],
            [(11, buy, 1), (12, view, 2)],
            [(10, view, 100), (11, buy, 101)],
        ])
        let plain = SequenceSplit(h, cutoff: 100, targetBehaviours: [buy])
        let kept = SequenceSplit(h, cutoff: 100, targetBehaviours: [buy], keepLaterEvents: true)
        XCTAssertEqual(kept.testExamples, plain.testExamples)
        XCTAssertEqual(kept.validationExamples, plain.validationExamples)
        XCTAssertEqual(ids(kept, kept.pastSequence(0)), ids(plain, plain.pastSequence(0)))
        let later = kept.laterExamples
        XCTAssertEqual(later.map(\.user), [0, 0, 0], "only the first user has a past and targets after the cutoff")
        XCTAssertEqual(ids(kept, later.map(\.target)), [14, 15, 17], "the purchases from the cutoff on, views are history")
        XCTAssertEqual(ids(kept, later[2].history), [10, 11, 12, 13, 14, 15, 16])
        XCTAssertEqual(later.first, plain.testExamples.first)
    }
}
