import Foundation
import PleatCore
import PleatModel
import PleatTensor
import PleatTraining

/// Training-step time and peak memory of HSTU on users with `events`-long histories: folded (window 200,
/// 64 folds × 128 events, keys = 64 item categories) against brute force (the same model without
/// folding, attending over the whole history). Synthetic histories; one configuration per process,
/// so that the peak resident set belongs to it alone.
public struct FoldStepBenchmark {
    public enum Mode: String, Sendable, Codable, CaseIterable { case folded, full }

    public struct Result: Sendable, Codable {
        public var mode: String
        public var events: Int
        public var batch: Int
        public var medianMs: Double
        public var peakRssMb: Double
        public var attendedPositions: Int
    }

    public let events: Int, mode: Mode, batch: Int, steps: Int
    static let categories = 64, itemsPerCategory = 100, window = 200

    public init(events: Int, mode: Mode, batch: Int = 2, steps: Int = 5) {
        (self.events, self.mode, self.batch, self.steps) = (events, mode, batch, steps)
    }

    /// Attention-score bytes the brute-force model keeps per step (what decides whether it fits).
    public static func fullAttentionBytes(events: Int, batch: Int, config: HSTUSettings = HSTUSettings()) -> Double {
        let n = Double(events), perBlock = 2 * Double(batch * config.encoder.heads) * n * n * 4 + Double(batch) * n * n
        return Double(config.encoder.blocks) * perBlock
    }

    public func run() -> Result {
        var config = TrainingConfig(model: .hstu)
        config.batchSize = batch
        config.maxLength = mode == .folded ? Self.window : events - 1
        if mode == .folded { (config.fold.key, config.fold.windowEndSpread) = (.category, 0) }
        let items = Self.categories * Self.itemsPerCategory
        let keys = FoldKeys.perItem([0] + (0..<items).map { Int32($0 / Self.itemsPerCategory + 1) }, count: Self.categories)
        let model = config.spec.makeModel(batchSize: batch, seed: config.seed, items: items, foldKeys: mode == .folded ? keys : nil)
        let adam = Adam(model.store)
        var data = RandomSource(seed: 1)
        let sequences = (0..<batch).map { _ -> EventSequence in
            let ids = (0..<events).map { _ in Int32(1 + data.below(items)) }
            return EventSequence(items: ids[...], times: (0..<events).map { Int64($0 * 60) }[...])
        }
        var times: [Double] = []
        for step in 0..<(steps + 1) {
            let start = Date()
            model.store.zeroGrad()
            var rng = RandomSource(seed: UInt64(step))
            _ = model.trainStep(sequences, rng: &rng)
            adam.update(lr: 1e-3)
            if step > 0 { times.append(Date().timeIntervalSince(start)) }  // the first step allocates scratch
        }
        return Result(mode: mode.rawValue, events: events, batch: batch, medianMs: times.sorted()[times.count / 2] * 1e3,
                      peakRssMb: PeakMemory.residentMB,
                      attendedPositions: mode == .folded ? config.fold.groups + Self.window : events - 1)
    }
}
