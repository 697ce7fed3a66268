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
        // An id-only model reads none.
        XCTAssertEqual(BehaviourSettings(input: .none, types: 3, names: ["view", "cart", "buy"]).modelIds(eventTypes: ["view": 1]), [0, 0])
        XCTAssertEqual(BehaviourSettings.encoderId(4, types: 3), 0)
        XCTAssertEqual(BehaviourSettings.encoderId(3, types: 3), 3)
        XCTAssertEqual(BehaviourSettings.encoderId(-1, types: 3), 0)
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
