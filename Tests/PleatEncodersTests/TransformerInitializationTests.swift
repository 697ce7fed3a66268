import XCTest
import PleatCore
import PleatTensor
@testable import PleatEncoders

/// `TransformerConfig.initialization`: each matrix starts with the spread its rule names, in both encoders.
final class TransformerInitializationTests: XCTestCase {
    private func config(_ initialization: TransformerConfig.Initialization) -> TransformerConfig {
        var c = TransformerConfig()
        c.items = 2_000; c.dimension = 64; c.heads = 1; c.blocks = 1; c.maxLength = 50
        c.initialization = initialization
        return c
    }

    /// Sample standard deviation of a matrix's values (zero mean assumed, as both rules draw it).
    private func spread(_ p: Parameter) -> Double {
        let v = p.value.array
        return (v.reduce(0) { $0 + Double($1) * Double($1) } / Double(v.count)).squareRoot()
    }

    /// Glorot's std √(2 / (fan_in + fan_out)) for a (rows × columns) matrix.
    private func glorot(_ p: Parameter) -> Double { (2.0 / Double(p.shape[0] + p.shape[1])).squareRoot() }

    func testNormalDrawsEveryMatrixAtTwoHundredths() {
        let stores = [SASRecEncoder(config: config(.normal), batch: 1, seed: 3).store,
                      BERT4RecEncoder(config: config(.normal), batch: 1, seed: 3).store]
        for store in stores {
            for p in store.parameters where p.shape.count == 2 {
                XCTAssertEqual(spread(p), 0.02, accuracy: 0.002, p.name)
            }
        }
    }

    func testXavierNormalFollowsEachMatrixShape() {
        let stores = [SASRecEncoder(config: config(.xavierNormal), batch: 1, seed: 3).store,
                      BERT4RecEncoder(config: config(.xavierNormal), batch: 1, seed: 3).store]
        for store in stores {
            var checked = 0
            for p in store.parameters where p.shape.count == 2 {
                // 2,000 to 4,096 values per matrix: the sample std is within a few percent of the rule.
                XCTAssertEqual(spread(p), glorot(p), accuracy: 0.1 * glorot(p), p.name)
                checked += 1
            }
            XCTAssertGreaterThanOrEqual(checked, 5, "item and position tables, QKV, output and FFN matrices")
        }
        // The rule's point: a 64-wide block matrix starts wider, the item table narrower, than 0.02.
        let store = SASRecEncoder(config: config(.xavierNormal), batch: 1, seed: 3).store
        XCTAssertGreaterThan(spread(store["blocks.0.qkv.weight"]!), 0.08)
        XCTAssertLessThan(spread(store["item_emb.weight"]!), 0.035)
        XCTAssertTrue(store["blocks.0.qkv.bias"]!.value.array.allSatisfy { $0 == 0 }, "vectors are not drawn")
    }

    /// Specs stored before the key existed read as `normal`, what they were trained with.
    func testSpecWithoutTheKeyReadsAsNormal() throws {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config(.xavierNormal))) as! [String: Any]
        XCTAssertEqual(object["initialization"] as? String, "xavier_normal")
        object["initialization"] = nil
        let decoded = try JSONDecoder().decode(TransformerConfig.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(decoded.initialization, .normal)
    }
}
