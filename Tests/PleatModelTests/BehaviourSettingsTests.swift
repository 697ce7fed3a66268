import Foundation
import XCTest
import PleatCore
@testable import PleatModel

/// How a behaviour-aware model's behaviour ids meet a database's event type ids, and what a spec
/// stored before behaviours existed reads as.
final class BehaviourSettingsTests: XCTestCase {
    /// By name: another database (or a fresh ingest) may number the same types differently, and a type
    /// the model never saw reads as no behaviour.
    func testDatabaseIdsMapToTheModelsByName() {
        let trained = BehaviourSettings(input: .embedding, types: 3, names: ["view", "cart", "buy"])
        XCTAssertEqual(trained.modelIds(eventTypes: ["buy": 1, "view": 2, "fav": 3, "cart": 5]), [0, 3, 1, 0, 0, 2])
        // Without names (types given by hand) the ids are the model's, up to its table.
        XCTAssertEqual(BehaviourSettings(input: .embedding, types: 2).modelIds(eventTypes: ["a": 1, "b": 2, "c": 3]), [0, 1, 2, 0])
        // An id-only model maps them too (for `input_events`) but embeds none.
        let idOnly = BehaviourSettings(input: .none, types: 3, names: ["view", "cart", "buy"])
        XCTAssertEqual(idOnly.modelIds(eventTypes: ["view": 1]), [0, 1])
        XCTAssertEqual(idOnly.embeddedTypes, 0)
        XCTAssertEqual(BehaviourSettings.encoderId(4, types: 3), 0)
        XCTAssertEqual(BehaviourSettings.encoderId(3, types: 3), 3)
        XCTAssertEqual(BehaviourSettings.encoderId(-1, types: 3), 0)
    }

    /// `input_events`: the encoder reads only events of those behaviours, whatever its input mode; the
    /// names resolve to the model's ids, and a sequence keeps its other fields aligned.
    func testInputEventsKeepOnlyThoseBehaviours() {
        let buysOnly = BehaviourSettings(input: .none, types: 3, names: ["view", "cart", "buy"], inputEvents: ["buy", "cart"])
        XCTAssertEqual(buysOnly.inputBehaviours, [2, 3])
        XCTAssertNil(BehaviourSettings(input: .embedding, types: 3, names: ["view", "cart", "buy"]).inputBehaviours)
        XCTAssertEqual(buysOnly.modelIds(eventTypes: ["buy": 1, "view": 2, "cart": 3]), [0, 3, 1, 2], "mapped by name even id-only")
        let s = EventSequence(items: [5, 6, 7, 8], times: [10, 20, 30, 40], targets: [false, true, false, true], behaviours: [1, 3, 1, 2])
        let kept = s.keeping(buysOnly.inputBehaviours)
        XCTAssertEqual(Array(kept.items), [6, 8])
        XCTAssertEqual(Array(kept.times), [20, 40])
        XCTAssertEqual(kept.targets.map(Array.init), [true, true])
        XCTAssertEqual(kept.behaviours.map(Array.init), [3, 2])
        XCTAssertEqual(Array(s.keeping(nil).items), [5, 6, 7, 8])
    }

    /// A spec written before the key reads items only, and a behaviour-aware one reads back as written.
    func testStoredSpecsReadBack() throws {
        var old = try XCTUnwrap(try JSONSerialization.jsonObject(with: try JSONEncoder.snakeCase().encode(ModelSpec(kind: .sasrec))) as? [String: Any])
        XCTAssertNotNil(old.removeValue(forKey: "behaviour"))
        let spec = try JSONDecoder.snakeCase.decode(ModelSpec.self, from: try JSONSerialization.data(withJSONObject: old))
        XCTAssertEqual(spec.behaviour, BehaviourSettings())
        XCTAssertEqual(spec.behaviour.embeddedTypes, 0)
        var aware = ModelSpec(kind: .hstu, maxLength: 20)
        aware.behaviour = BehaviourSettings(input: .embedding, types: 4, names: ["pv", "buy", "cart", "fav"])
        XCTAssertEqual(try JSONDecoder.snakeCase.decode(ModelSpec.self, from: try JSONEncoder.snakeCase().encode(aware)), aware)
    }
}
