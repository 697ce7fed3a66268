import Foundation
import XCTest
import PleatCore
import PleatTensor
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

    /// Values fall in quarter-octave buckets: every rating 1-5 its own, none (NaN) in row 0, a negative
    /// in the first, a huge one in the last; a model reading them scores differently when they differ.
    func testValueBucketsAndAModelThatReadsThem() {
        let ratings = (1...5).map { BehaviourSettings.valueId(Float($0), buckets: 64) }
        XCTAssertEqual(Set(ratings).count, 5, "\(ratings)")
        XCTAssertEqual(ratings, ratings.sorted())
        XCTAssertEqual(BehaviourSettings.valueId(.nan, buckets: 64), 0)
        XCTAssertEqual(BehaviourSettings.valueId(3, buckets: 0), 0, "a model without buckets reads none")
        XCTAssertEqual(BehaviourSettings.valueId(-2, buckets: 64), 1)
        XCTAssertEqual(BehaviourSettings.valueId(1e30, buckets: 64), 64)

        var spec = ModelSpec(kind: .sasrec, maxLength: 6)
        (spec.sasrec.encoder.dimension, spec.sasrec.encoder.heads, spec.sasrec.encoder.blocks) = (8, 1, 1)
        spec.behaviour.valueBuckets = 16
        let model = spec.makeModel(batchSize: 1, seed: 3, items: 10)
        // Away from the zero start of N(0, 0.02²), so that a value's row moves the scores visibly.
        var rng = RandomSource(seed: 4)
        if let table = model.store["value_emb.weight"] { for i in 0..<table.value.count { table.value[i] = Float(rng.normal()) } }
        func scores(_ values: [Float]) -> [Float] {
            let history = EventSequence(items: [1, 2, 3], times: [10, 20, 30], values: ArraySlice(values))
            let out = Tensor([1, 11])
            model.scores([ScoringQuery(history: history, time: 30)], into: out)
            return out.array
        }
        XCTAssertNotEqual(scores([1, 5, 2]), scores([5, 1, 2]))
        XCTAssertEqual(scores([.nan, .nan, .nan]), {
            let history = EventSequence(items: [1, 2, 3], times: [10, 20, 30])
            let out = Tensor([1, 11])
            model.scores([ScoringQuery(history: history, time: 30)], into: out)
            return out.array
        }(), "no values and NaN values read alike")
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
