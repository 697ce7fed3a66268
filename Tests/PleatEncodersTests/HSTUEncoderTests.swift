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
            for p in encoder.store.parameters {
                // Item rows not in the batch have no gradient and are skipped.
                GradientCheck.check(p.value, gradient: p.grad, "\(p.name) (\(variant))", skipIfZero: true, loss: loss)
            }
        }
    }
}
