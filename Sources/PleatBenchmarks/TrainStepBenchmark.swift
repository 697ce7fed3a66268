import Foundation
import PleatCore
import PleatEncoders
import PleatHistories
import PleatModel
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
        /// The BLAS kernel the products ran on.
        public var blasKernel: String
        /// Behaviour types embedded beside the items (0: id-only, as the reference).
        public var behaviourTypes: Int
        /// How a whole model read the behaviours (`modelInput`); nil: the encoder alone was timed.
        public var modelInput: String?
    }

    public let preset: Preset
    public let steps: Int
    /// > 0: the encoder also embeds a random behaviour of 1…this at every position (`behaviour.input`).
    public let behaviourTypes: Int
    /// Set: the preset runs as a whole next-item model (`NextItemModel.trainStep`, SASRec or HSTU with the
    /// preset's encoder and loss) on random histories of `maxLength + 1` events with random behaviours of
    /// `behaviourTypes` types, reading them this way: so that behaviour inputs, `interleaved`'s two tokens
    /// per event among them, are compared at the level users train at. nil: the encoder alone, as the
    /// reference times it.
    public let modelInput: BehaviourSettings.Input?
    let batch = 128, warmup = 3

    public init(preset: Preset, steps: Int = 10, behaviourTypes: Int = 0, modelInput: BehaviourSettings.Input? = nil) {
        precondition(modelInput == nil || modelInput == BehaviourSettings.Input.none || behaviourTypes > 0, "behaviour input needs behaviour types")
        self.preset = preset
        self.steps = steps
        self.behaviourTypes = behaviourTypes
        self.modelInput = modelInput
    }

    /// What a preset trains, with the sizes the reference's FLOP count uses.
    private struct Setup {
        let encoder: any SequenceEncoder
        let dimension: Int, blocks: Int, maxLength: Int, items: Int
        let negatives: Int?  // nil: full softmax over every item
    }

    private func setup() -> Setup {
        switch preset {
        case .sasrecFull, .sasrecSampled:
            var c = TransformerConfig()
            if preset == .sasrecSampled { (c.dimension, c.heads, c.items) = (256, 4, 40_000) }
            return Setup(encoder: SASRecEncoder(config: c, batch: batch, seed: 0, behaviourTypes: behaviourTypes), dimension: c.dimension, blocks: c.blocks,
                         maxLength: c.maxLength, items: c.items, negatives: preset == .sasrecSampled ? 128 : nil)
        case .hstu:
            let c = HSTUConfig.benchmark
            return Setup(encoder: HSTUEncoder(config: c, batch: batch, seed: 0, behaviourTypes: behaviourTypes), dimension: c.dimension, blocks: c.blocks,
                         maxLength: c.maxLength, items: c.items, negatives: nil)
        }
    }

    /// The whole model of `modelInput`'s run, with the preset's encoder, length and loss.
    private func modelSpec(_ input: BehaviourSettings.Input) -> (spec: ModelSpec, items: Int, dimension: Int, blocks: Int, maxLength: Int, negatives: Int?) {
        var spec: ModelSpec
        switch preset {
        case .sasrecFull, .sasrecSampled:
            var c = TransformerConfig()
            if preset == .sasrecSampled { (c.dimension, c.heads, c.items) = (256, 4, 40_000) }
            spec = ModelSpec(kind: .sasrec, maxLength: c.maxLength)
            spec.sasrec.encoder = c
            (spec.sasrec.loss, spec.sasrec.negatives, spec.sasrec.sampling, spec.sasrec.itemDropout)
                = (preset == .sasrecSampled ? .sampledSoftmax : .ce, 128, .uniform, 0)
            spec.behaviour = BehaviourSettings(input: input, types: behaviourTypes)
            return (spec, c.items, c.dimension, c.blocks, c.maxLength, preset == .sasrecSampled ? 128 : nil)
        case .hstu:
            let c = HSTUConfig.benchmark
            spec = ModelSpec(kind: .hstu, maxLength: c.maxLength)
            spec.hstu.encoder = c
            spec.behaviour = BehaviourSettings(input: input, types: behaviourTypes)
            return (spec, c.items, c.dimension, c.blocks, c.maxLength, spec.hstu.negatives)
        }
    }

    private func runModel(_ input: BehaviourSettings.Input, progress: Bool) throws -> Result {
        let setup = modelSpec(input)
        let model = setup.spec.makeModel(batchSize: batch, seed: 0, items: setup.items)
        let adam = Adam(model.store)
        var data = RandomSource(seed: 1)
        let events = setup.maxLength + 1
        let batches = (0..<4).map { _ in
            (0..<batch).map { _ in
                EventSequence(items: ArraySlice((0..<events).map { _ in Int32(1 + data.below(setup.items)) }),
                              times: ArraySlice((0..<events).map { Int64(60 * $0) }),
                              behaviours: ArraySlice((0..<events).map { _ in Int16(1 + data.below(max(behaviourTypes, 1))) }))
            }
        }
        var rng = RandomSource(seed: 2)
        // Counted per event, as the encoder-level run: GFLOP/s of two tokens per event are per event too.
        return timed("bench \(preset.rawValue) (model, \(input.rawValue))", progress: progress, dimension: setup.dimension, blocks: setup.blocks,
                     maxLength: setup.maxLength, outputColumns: setup.negatives.map { $0 + 1 } ?? setup.items, modelInput: input) { step in
            model.store.zeroGrad()
            let loss = model.trainStep(batches[step % 4], rng: &rng)
            adam.update(lr: 1e-3)
            return loss
        }
    }

    /// Runs `step` (one training step, returning its loss) `warmup + steps` times and reports the median
    /// of the timed ones, with the reference's FLOP count for the preset's shape.
    private func timed(_ label: String, progress: Bool, dimension: Int, blocks: Int, maxLength: Int, outputColumns: Int,
                       modelInput: BehaviourSettings.Input?, _ step: (Int) -> Double) -> Result {
        let line = ProgressLine(label, unit: "steps", total: warmup + steps, enabled: progress)
        var (times, lastLoss) = ([Double](), 0.0)
        for i in 0..<(warmup + steps) {
            let start = Date()
            lastLoss = step(i)
            if i >= warmup { times.append(Date().timeIntervalSince(start)) }
            line.update(done: i + 1)
        }
        line.finish()
        let sorted = times.sorted(), median = sorted[sorted.count / 2]
        // The reference counts every block (HSTU's too) like a Transformer block with a 4× FFN.
        let flops = Self.flops(batch: batch, length: maxLength, dimension: dimension, blocks: blocks, ffnMultiplier: 4, outputColumns: outputColumns)
        return Result(preset: preset.rawValue, medianMs: median * 1e3, minMs: sorted[0] * 1e3, gflops: flops / median / 1e9,
                      threads: Parallel.workers, finalLoss: lastLoss, sequencesPerS: Double(batch) / median,
                      sgemmPeakGflops: Self.sgemmPeak(), blasKernel: BLASLibrary.shared.kernel, behaviourTypes: behaviourTypes,
                      modelInput: modelInput?.rawValue)
    }

    public func run(progress: Bool = false) throws -> Result {
        if let modelInput { return try runModel(modelInput, progress: progress) }
        let model = setup(), encoder = model.encoder
        let adam = Adam(encoder.store)
        let full = SoftmaxCrossEntropy()
        let sampled = SampledSoftmax(temperature: 1, normalize: false, maskCollisions: false)
        let rows = batch * model.maxLength
        var data = RandomSource(seed: 1)
        func randomItems(_ count: Int) -> [Int32] { (0..<count).map { _ in Int32(1 + data.below(model.items)) } }
        let batches = (0..<4).map { _ in randomItems(rows) }
        let targets = (0..<4).map { _ in randomItems(rows) }
        let negatives = (0..<4).map { _ in randomItems(model.negatives ?? 0) }
        let behaviours = (0..<4).map { _ in (0..<rows).map { _ in Int32(behaviourTypes > 0 ? 1 + data.below(behaviourTypes) : 0) } }
        var dropoutRng: RandomSource? = RandomSource(seed: 2)
        return timed("bench \(preset.rawValue)", progress: progress, dimension: model.dimension, blocks: model.blocks, maxLength: model.maxLength,
                     outputColumns: model.negatives.map { $0 + 1 } ?? model.items, modelInput: nil) { step in
            let j = step % 4
            encoder.store.zeroGrad()
            encoder.fields.behaviours = behaviourTypes > 0 ? behaviours[j] : nil
            encoder.forward(batches[j], rng: &dropoutRng)
            let loss = if model.negatives == nil {
                full.lossAndGradient(hidden: encoder.output, table: encoder.items.table, bias: nil, labels: targets[j], dHidden: encoder.outputGradient)
            } else {
                sampled.lossAndGradient(query: encoder.output, table: encoder.items.table, labels: targets[j], negatives: negatives[j],
                                        dQuery: encoder.outputGradient)
            }
            encoder.backward()
            adam.update(lr: 1e-3)
            return loss
        }
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
