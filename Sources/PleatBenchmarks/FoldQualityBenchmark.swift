import Foundation
import PleatCore
import PleatHistories
import PleatModel
import PleatTraining

/// Does folding recover a dependency older than the window? Synthetic users each have a favourite item
/// in each of 30 categories and consume a category's favourite whenever they visit it. After 600 visits
/// to uniformly drawn categories, one "home" category is not visited for 1,050 events; the validation
/// and test targets are its favourite. Only a model that remembers the home category's item from more
/// than 1,000 events back can rank it. The figure (and what chooses the epoch) is a memory probe, not a
/// served list's: the target ranked among itself and the items the user has never interacted with
/// (`Evaluator.ranksAmongUnseen`), i.e. does the model know this user's item from 1,050 events back.
/// The target is an item the user has consumed before, so a product would serve it under `seen =
/// include`, the rule the runs are configured with. Trains HSTU folded by category (window 4, 32 folds ×
/// 4 events) and HSTU on the last 200 events only, and reports both probes' validation NDCG@10.
public struct FoldQualityBenchmark {
    public struct Result: Sendable, Codable {
        public var foldedValidNdcg10: Double
        public var windowOnlyValidNdcg10: Double
        public var window: Int
        public var gap: Int
        public var users: Int
        public var seconds: Double
    }

    public let epochs: Int, users: Int
    /// The training seed (initial weights, batch order); the synthetic histories are always the same.
    public let seed: UInt64
    static let categories = 30, perCategory = 20, before = 600, gap = 1_050

    public init(epochs: Int = 100, users: Int = 200, seed: UInt64 = 7) {
        (self.epochs, self.users, self.seed) = (epochs, users, seed)
    }

    public func run(log: @escaping (String) -> Void = { _ in }) throws -> Result {
        let start = Date()
        var histories = InteractionHistories()
        var rng = RandomSource(seed: 1)
        let c = Self.categories
        for u in 0..<users {
            let home = rng.below(c)
            let favourite = (0..<c).map { Int32(1 + $0 * Self.perCategory + rng.below(Self.perCategory)) }
            var sequence = (0..<Self.before).map { _ in favourite[rng.below(c)] }
            for _ in 0..<Self.gap {
                var other = rng.below(c - 1)
                if other >= home { other += 1 }
                sequence.append(favourite[other])
            }
            sequence += [favourite[home], favourite[home]]
            for (t, item) in sequence.enumerated() { histories.append(user: Int32(u + 1), item: item, time: Int64(t * 60)) }
        }
        histories.finish()
        let split = SequenceSplit(histories)
        var keys = [Int32](repeating: 0, count: split.vocabulary.count + 1)
        for (i, id) in split.vocabulary.databaseIds.enumerated() where i > 0 { keys[i] = Int32((Int(id) - 1) / Self.perCategory + 1) }

        func train(folded: Bool) throws -> Double {
            var config = TrainingConfig(model: .hstu)
            (config.batchSize, config.epochs, config.patience, config.learningRate, config.seed) = (32, epochs, epochs, 3e-3, seed)
            config.seen = .include
            (config.hstu.encoder.dimension, config.hstu.encoder.dropout, config.hstu.negatives) = (32, 0, 128)
            if folded {
                config.maxLength = 4
                config.fold.key = .category
                (config.fold.groups, config.fold.groupLength, config.fold.windowEndSpread, config.fold.windowsPerUser) = (32, 4, 1, 10)
            } else {
                config.maxLength = 200
            }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pleat-fold-quality-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let trainer = Trainer(config: config, split: split, run: RunDirectory(directory),
                                  foldKeys: folded ? .perItem(keys, count: c) : nil, showProgress: false, log: log)
            trainer.validationMetrics = { Evaluator.metrics(ranks: Evaluator.ranksAmongUnseen($0, $1)) }
            return try trainer.train(modelId: folded ? "folded" : "window-only").valid.ndcg(at: 10)
        }
        let folded = try train(folded: true), windowOnly = try train(folded: false)
        return Result(foldedValidNdcg10: folded, windowOnlyValidNdcg10: windowOnly, window: 200, gap: Self.gap,
                      users: users, seconds: Date().timeIntervalSince(start))
    }
}
