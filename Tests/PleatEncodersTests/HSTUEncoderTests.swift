import XCTest
import PleatCore
import PleatTensor
import PleatTestSupport
@testable import PleatEncoders

final class HSTUEncoderTests: XCTestCase {
    /// The whole encoder's backward pass against central differences, for the research variant (with
    /// timestamps and padding) and the benchmark variant (with dropout: a fixed seed draws the same masks).
    /// The item table through two layers is where truncation is largest (at h = 1.6·10⁻² it is 10⁻², at
    /// 4·10⁻³ below the tolerance), the LayerNorm gains where rounding is: `GradientCheck.steps` covers both.
    func testEncoderGradientsForBothVariants() {
        var research = HSTUConfig()
        var benchmark = HSTUConfig.benchmark
        research.items = 9; research.dimension = 8; research.heads = 2; research.maxLength = 5; research.dropout = 0.2
        benchmark.items = 9; benchmark.dimension = 8; benchmark.heads = 2; benchmark.maxLength = 5
        benchmark.attention.scale = 1 / Float(4).squareRoot()
        for config in [research, benchmark] {
            let encoder = HSTUEncoder(config: config, batch: 2, seed: 7)
            var rng = RandomSource(seed: 8)
            for p in encoder.store.parameters { Initializer.normal(p.value, std: 0.3, rng: &rng) }
            for p in encoder.store.parameters where p.name.contains("ln") && p.name.hasSuffix("weight") {
                for i in 0..<p.value.count { p.value[i] += 1 }
            }
            let ids: [Int32] = [1, 4, 4, 9, 2, 3, 5, 7, 0, 0]  // the second sequence has 3 events
            let timestamps: [Int64] = [0, 60, 4_000, 90_000, 700_000, 800_000, 10, 20, 5_000, 5_000, 5_000, 5_000]
            let w = GradientCheck.random([10, 8], seed: 9)
            // Padded rows carry no loss, as in training.
            for i in 64..<80 { w[i] = 0 }
            func loss() -> Double {
                var dropoutRng: RandomSource? = RandomSource(seed: 10)
                encoder.forward(ids, timestamps: config.attention.timeBias ? timestamps : nil, rng: &dropoutRng)
                return GradientCheck.weightedSum(encoder.output, w)
            }
            _ = loss()
            encoder.outputGradient.copy(from: w)
            encoder.backward()
            let variant = config.attention.timeBias ? "research" : "benchmark"
            // Every parameter, none skipped: each must have a gradient that is not trivially zero.
            XCTAssertGreaterThan(encoder.store.parameters.count, 5, variant)
            for p in encoder.store.parameters {
                GradientCheck.check(p.value, gradient: p.grad, "\(p.name) (\(variant))", loss: loss)
            }
        }
    }

    /// Scoring's path (`encodeLastPositions`: the last layer runs one query per sequence) gives the full
    /// forward's rows at each sequence's last real position, for both variants, one to three layers and
    /// sequences of every length the batch can hold (0 to 5 of a packed length of 5, model maximum 6).
    /// Only the summation order of the attention's products differs: outputs are unit-norm or
    /// LayerNorm'd (entries below 3), so float32 rounding over ≤ 6 keys and 8 features stays near 1e-6.
    func testLastPositionsMatchTheFullForward() {
        for variant in [HSTUConfig(), HSTUConfig.benchmark] {
            for blocks in 1...3 {
                var config = variant
                (config.items, config.dimension, config.heads, config.maxLength, config.blocks) = (9, 8, 2, 6, blocks)
                let encoder = HSTUEncoder(config: config, batch: 4, seed: 3)
                var rng = RandomSource(seed: 4)
                for p in encoder.store.parameters { Initializer.normal(p.value, std: 0.3, rng: &rng) }
                let n = 5, lengths: [Int32] = [5, 3, 1, 0]
                var ids = [Int32](repeating: 0, count: 4 * n), times = [Int64](repeating: 0, count: 4 * (n + 1))
                for b in 0..<4 {
                    for i in 0..<Int(lengths[b]) { ids[b * n + i] = Int32(1 + (b * 3 + i * 5) % 9); times[b * (n + 1) + i] = Int64(i * i * 700 + b * 50) }
                    for i in Int(lengths[b])...n { times[b * (n + 1) + i] = Int64(40_000 + b) }
                }
                let stamps = config.attention.timeBias ? times : nil
                encoder.setLength(n)
                var noDropout: RandomSource? = nil
                encoder.forward(ids, lengths: lengths, contextCounts: nil, timestamps: stamps, rng: &noDropout)
                let full = Tensor([4 * n, 8]); full.copy(from: encoder.output)
                let users = Tensor([4, 8])
                encoder.encodeLastPositions(ids, lengths: lengths, timestamps: stamps, into: users)
                let worst = LastPositions.largestDifference(users: users, full: full, lengths: lengths, length: n)
                XCTAssertLessThan(worst, 1e-5, "\(config.attention.timeBias ? "research" : "benchmark"), \(blocks) blocks")
                XCTAssertGreaterThan(abs(users[0] - users[8]) + abs(users[8] - users[16]), 1e-3, "rows differ between sequences")
                for i in 0..<8 { XCTAssertFalse(users[24 + i].isNaN, "an empty sequence gives no NaN") }
            }
        }
    }
}
