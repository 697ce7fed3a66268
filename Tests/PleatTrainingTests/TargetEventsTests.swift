import Foundation
import XCTest
import PleatCore
import PleatTestSupport
import PleatHistories
@testable import PleatModel
@testable import PleatTraining

/// `target_events`: only events of the target behaviours are labels and held-out targets, every event
/// is history; the config reads it from a file line, `--set` or JSON (`TargetEventsEvaluationTests`:
/// training and evaluation hold out the same events).
final class TargetEventsTests: XCTestCase {
    func testConfigReadsTargetEventsAndSaysWhatItNeeds() throws {
        let dir = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("train.conf")
        try "target_events = [buy]\nseen = include\n".write(to: file, atomically: true, encoding: .utf8)
        let fromFile = try TrainingConfig.resolve(model: .sasrec, file: file, overrides: [])
        XCTAssertEqual(fromFile.targetEvents, ["buy"])
        XCTAssertNoThrow(try fromFile.validate())
        XCTAssertEqual(fromFile.splitRule.targetEvents, ["buy"], "part of the split evaluation repeats")
        for (set, names) in [("target_events=buy, cart", ["buy", "cart"]), (#"target_events=["buy"]"#, ["buy"]), ("target_events='buy'", ["buy"])] {
            XCTAssertEqual(try TrainingConfig.resolve(model: nil, file: nil, overrides: [set]).targetEvents?.names, names, set)
        }
        try #"{"target_events": ["cart", "buy"], "seen": "include"}"#.write(to: file, atomically: true, encoding: .utf8)
        let fromJSON = try TrainingConfig.resolve(model: nil, file: file, overrides: [])
        XCTAssertEqual(fromJSON.targetEvents, ["cart", "buy"])
        XCTAssertEqual(try TrainingConfig.stored(String(decoding: try fromJSON.jsonData(), as: UTF8.self), source: "test"), fromJSON,
                       "a stored config reads back with its list")
        XCTAssertNil(TrainingConfig().targetEvents, "every event is a target by default")

        func error(_ overrides: [String]) -> String {
            do { try TrainingConfig.resolve(model: nil, file: nil, overrides: overrides).validate(); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(error(["target_events=[]"]).contains("target_events"), error(["target_events=[]"]))
        XCTAssertEqual(error(["target_events=buy"]), "", "under exclude, seen means bought")
        XCTAssertTrue(error(["target_events=buy", "seen=include", "model=bert4rec"]).contains("bert4rec"))
        XCTAssertEqual(error(["target_events=buy", "seen=include", "model=hstu"]), "")
    }

    /// Only positions whose next event is a target carry a label; the inputs are every event.
    func testOnlyTargetEventsAreLabels() {
        let batch = SequenceBatch(batch: 1, length: 6)
        let items: [Int32] = [1, 2, 3, 4, 5], targets = [false, true, false, false, true]
        batch.placeShifted(EventSequence(items: items[...], times: [10, 20, 30, 40, 50][...], targets: targets[...]), row: 0)
        XCTAssertEqual(Array(batch.ids.prefix(4)), [1, 2, 3, 4], "every event is input")
        XCTAssertEqual(Array(batch.labels.prefix(5)), [2, -1, -1, 5, -1], "the events of the target behaviour are labels")
        batch.clear()
        batch.placeShifted(EventSequence(items: items[...], times: [10, 20, 30, 40, 50][...]), row: 0)
        XCTAssertEqual(Array(batch.labels.prefix(5)), [2, 3, 4, 5, -1], "without targets every next event is")
    }
}
