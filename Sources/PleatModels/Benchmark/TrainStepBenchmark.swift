import Foundation
import PleatCore
import PleatTensor

/// Times one training step (forward, backward, Adam) on random full-length batches, with the same
/// presets, timing rule (median of `steps` after 3 warm-up steps, 4 rotating batches) and FLOP count
/// as the PyTorch reference in shared/bench/torch_step.py, so the two JSON lines compare directly.
public struct TrainStepBenchmark {
    public enum Preset: String, CaseIterable, Sendable {
        case sasrecFull = "sasrec-full"
        case sasrecSampled = "sasrec-sampled"
        case hstu
    }

    public struct Result: Codable, Sendable {
        public var preset: String
        public var medianMs: Double
        public var minMs: Double
        public var gflops: Double
        public var threads: Int
        public var finalLoss: Double
        public var sequencesPerS: Double
        /// sgemm GFLOP/s on this machine right before the run (2048³, rows split over the cores).
        public var sgemmPeakGflops: Double
    }

    public let preset: Preset
    public let steps: Int
    let batch = 128, warmup = 3

    public init(preset: Preset, steps: Int = 10) {
        self.preset = preset
        self.steps = steps
    }

    /// What a preset trains: an encoder behind a common face, and its loss.
    private struct Setup {
        let store: ParameterStore
        let table: Parameter
        let output: Tensor
        let outputGradient: Tensor
        let forward: ([Int32], inout RandomSource?) -> Void
        let backward: () -> Void
        let dimension: Int, heads: Int, blocks: Int, ffnMultiplier: Int, maxLength: Int, items: Int
        let negatives: Int?  // nil: full softmax over every item
    }

    private func setup() -> Setup {
        switch preset {
        case .sasrecFull, .sasrecSampled:
            var config = SASRecConfig()
            if preset == .sasrecSampled { (config.dimension, config.heads, config.items) = (256, 4, 40_000) }
            let encoder = SASRecEncoder(config: config, batch: batch, seed: 0)
            return Setup(store: encoder.store, table: encoder.items.table, output: encoder.output, outputGradient: encoder.outputGradient,
                         forward: { encoder.forward($0, rng: &$1) }, backward: encoder.backward,
                         dimension: config.dimension, heads: config.heads, blocks: config.blocks, ffnMultiplier: config.ffnMultiplier,
                         maxLength: config.maxLength, items: config.items, negatives: preset == .sasrecSampled ? 128 : nil)
        case .hstu:
            let config = HSTUConfig.benchmark
            let encoder = HSTUEncoder(config: config, batch: batch, seed: 0)
            // The reference counts the HSTU block like a Transformer block with a 4× FFN.
            return Setup(store: encoder.store, table: encoder.items.table, output: encoder.output, outputGradient: encoder.outputGradient,
                         forward: { encoder.forward($0, rng: &$1) }, backward: encoder.backward,
                         dimension: config.dimension, heads: config.heads, blocks: config.blocks, ffnMultiplier: 4,
                         maxLength: config.maxLength, items: config.items, negatives: nil)
        }
    }

    public func run(progress: Bool = false) throws -> Result {
        Gemm.useSingleThread()  // the layers split work over the cores themselves
        let model = setup()
        let adam = Adam(model.store)
        let full = SoftmaxCrossEntropy()
        let sampled = SampledSoftmax(temperature: 1, normalize: false, maskCollisions: false)
        let rows = batch * model.maxLength
        var data = RandomSource(seed: 1)
        func randomItems(_ count: Int) -> [Int32] { (0..<count).map { _ in Int32(1 + data.below(model.items)) } }
        let batches = (0..<4).map { _ in randomItems(rows) }
        let targets = (0..<4).map { _ in randomItems(rows) }
        let negatives = (0..<4).map { _ in randomItems(model.negatives ?? 0) }
        var dropoutRng: RandomSource? = RandomSource(seed: 2)
        let line = ProgressLine("bench \(preset.rawValue)", unit: "steps", total: warmup + steps, enabled: progress)

        var times: [Double] = []
        var lastLoss = 0.0
        for step in 0..<(warmup + steps) {
            let j = step % 4
            let start = Date()
            model.store.zeroGrad()
            model.forward(batches[j], &dropoutRng)
            if model.negatives == nil {
                lastLoss = full.lossAndGradient(hidden: model.output, table: model.table, bias: nil,
                                                labels: targets[j], dHidden: model.outputGradient)
            } else {
                lastLoss = sampled.lossAndGradient(query: model.output, table: model.table, labels: targets[j],
                                                   negatives: negatives[j], dQuery: model.outputGradient)
            }
            model.backward()
            adam.update(lr: 1e-3)
            if step >= warmup { times.append(Date().timeIntervalSince(start)) }
            line.update(done: step + 1)
        }
        line.finish()
        let median = times.sorted()[times.count / 2]
        let flops = Self.flops(batch: batch, length: model.maxLength, dimension: model.dimension, blocks: model.blocks,
                               ffnMultiplier: model.ffnMultiplier, outputColumns: model.negatives.map { $0 + 1 } ?? model.items)
        return Result(preset: preset.rawValue, medianMs: median * 1e3, minMs: times.min()! * 1e3,
                      gflops: flops / median / 1e9, threads: Parallel.workers, finalLoss: lastLoss,
                      sequencesPerS: Double(batch) / median, sgemmPeakGflops: Self.sgemmPeak())
    }

    /// Best of 5 square 2048 products, split by rows over the cores as the layers do.
    static func sgemmPeak() -> Double {
        let n = 2048
        let a = Tensor([n, n]), b = Tensor([n, n]), c = Tensor([n, n])
        a.fill(0.5); b.fill(0.25)
        var best = Double.infinity
        for _ in 0..<5 {
            let start = Date()
            Parallel.forRows(n, minimumPerWorker: 256) { r in
                Gemm.multiply(a.pointer + r.lowerBound * n, b.pointer, into: c.pointer + r.lowerBound * n, m: r.count, n: n, k: n)
            }
            best = min(best, Date().timeIntervalSince(start))
        }
        return 2 * Double(n * n * n) / best / 1e9
    }

    /// FLOPs of the dominant matrix products, forward + backward (3× forward), as the reference counts them.
    static func flops(batch: Int, length: Int, dimension: Int, blocks: Int, ffnMultiplier: Int, outputColumns: Int) -> Double {
        let (b, l, d, f) = (Double(batch), Double(length), Double(dimension), Double(ffnMultiplier))
        let perBlock = 2 * b * l * (4 * d * d + 2 * f * d * d) + 2 * 2 * b * l * l * d
        return 3 * (Double(blocks) * perBlock + 2 * b * l * d * Double(outputColumns))
    }
}
