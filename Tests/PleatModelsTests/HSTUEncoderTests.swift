import XCTest
import PleatCore
import PleatTensor
import PleatTestSupport
@testable import PleatModels

final class HSTUEncoderTests: XCTestCase {
    /// The whole encoder's backward pass against central differences, for the research variant (with
    /// timestamps and padding) and the benchmark variant (with dropout: a fixed seed draws the same masks).
    /// h = 2·10⁻³: through two layers the O(h²) truncation error at the default 5·10⁻³ reaches the
    /// tolerance on the item table (1.6·10⁻³; it falls 4× when h halves), while below 10⁻³ Float32
    /// rounding takes over on the LayerNorm gains; at 2·10⁻³ every parameter measured ≤ 2.7·10⁻⁴.
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
                let numeric = GradientCheck.numeric(p.value, h: 2e-3, loss: loss)
                guard numeric.map(abs).max()! > 1e-4 else { continue }  // e.g. item rows not in the batch
                GradientCheck.assertClose(p.grad, numeric, "\(p.name) (\(variant))")
            }
        }
    }
}
