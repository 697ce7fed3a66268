import XCTest
import PleatCore
import PleatTensor
import PleatHistories
@testable import PleatEncoders
@testable import PleatModel
@testable import PleatTraining

/// Batches run at their longest sequence's length, not at `max_length` (`SequenceBatch.pack`,
/// `SequenceEncoder.setLength`): the same losses, gradients and scores as the padded layout, for every
/// model. Dropout is off because its masks are drawn over the rows that exist, so a packed and a padded
/// batch draw different (equally distributed) masks.
///
/// Tolerance: both layouts run the same products over the same real rows; only the BLAS's blocking over
/// the row count may differ, which changes float32 sums by a few ulps. 1e-5 relative to the largest
/// gradient element is 100× that and far below any real difference (a padding row leaking into a sum
/// changes it by O(1e-2) here).
final class PackedBatchTests: XCTestCase {
    private func spec(_ kind: ModelKind, block: TransformerConfig.Block = .postNorm,
                      positions: TransformerConfig.Positions = .fromOldest) -> ModelSpec {
        var config = TrainingConfig(model: kind)
        (config.sasrec.encoder.block, config.sasrec.encoder.positions) = (block, positions)
        (config.bert4rec.encoder.block, config.bert4rec.encoder.positions) = (block, positions)
        config.maxLength = 20
        config.sasrec.encoder.dropout = 0
        config.sasrec.encoder.dimension = 16
        config.bert4rec.encoder.dropout = 0
        config.bert4rec.encoder.dimension = 16
        config.hstu.encoder.dropout = 0
        config.hstu.encoder.attention.dropout = 0
        config.hstu.encoder.dimension = 16
        return config.spec
    }

    /// Short sequences (at most 7 events) in a model sized for 20 positions.
    private func sequences(seed: UInt64) -> [EventSequence] {
        var rng = RandomSource(seed: seed)
        return (0..<6).map { b in
            let n = 2 + (b * 5 + rng.below(3)) % 6
            let items = (0..<n).map { _ in Int32(1 + rng.below(30)) }
            let times = (0..<n).map { Int64(1_600_000_000 + 3_600 * $0 + rng.below(600)) }
            return EventSequence(items: items[...], times: times[...])
        }
    }

    private func batch(of model: any NextItemModel) -> SequenceBatch {
        switch model {
        case let m as SASRecModel: return m.backbone.batch
        case let m as HSTUModel: return m.backbone.batch
        case let m as BERT4RecModel: return m.batch
        default: fatalError("unknown model")
        }
    }

    func testPackedBatchesMatchThePaddedLayout() {
        let variants: [(ModelKind, TransformerConfig.Block, TransformerConfig.Positions)] = [
            (.sasrec, .postNorm, .fromOldest), (.sasrec, .ligr, .fromNewest), (.hstu, .postNorm, .fromOldest),
            (.bert4rec, .postNorm, .fromOldest), (.bert4rec, .preNorm, .fromNewest)]
        for (kind, block, positions) in variants {
            let packed = spec(kind, block: block, positions: positions).makeModel(batchSize: 8, seed: 3, items: 30)
            let padded = spec(kind, block: block, positions: positions).makeModel(batchSize: 8, seed: 3, items: 30)
            batch(of: padded).packs = false
            let train = sequences(seed: 11)
            var (rngA, rngB) = (RandomSource(seed: 5), RandomSource(seed: 5))
            packed.store.zeroGrad()
            padded.store.zeroGrad()
            let lossPacked = packed.trainStep(train, rng: &rngA)
            let lossPadded = padded.trainStep(train, rng: &rngB)
            XCTAssertLessThan(batch(of: packed).length, 10, "\(kind): the batch ran at its own length")
            XCTAssertEqual(batch(of: padded).length, 20, "\(kind): the reference ran padded")
            XCTAssertEqual(lossPacked, lossPadded, accuracy: 1e-5 * max(1, abs(lossPadded)), "\(kind) loss")
            for (a, b) in zip(packed.store.parameters, padded.store.parameters) {
                let scale = max((0..<b.grad.count).map { abs(b.grad[$0]) }.max() ?? 0, 1e-6)
                let worst = (0..<a.grad.count).map { abs(a.grad[$0] - b.grad[$0]) }.max() ?? 0
                XCTAssertLessThan(worst, 1e-5 * scale, "\(kind) gradient of \(a.name)")
            }

            let queries = sequences(seed: 12).map { ScoringQuery(history: $0, time: ($0.times.last ?? 0) + 60) }
            let (scoresA, scoresB) = (Tensor([8, 31]), Tensor([8, 31]))
            packed.scores(queries, into: scoresA)
            padded.scores(queries, into: scoresB)
            for r in 0..<queries.count {
                for j in 1...30 {
                    XCTAssertEqual(scoresA[r * 31 + j], scoresB[r * 31 + j], accuracy: 1e-5 * max(1, abs(scoresB[r * 31 + j])),
                                   "\(kind) score of item \(j) for query \(r)")
                }
            }
        }
    }

    /// Positions counted from the newest event: each row's last real event is 0, whatever the row
    /// length and the batch's length.
    func testPositionsFromTheNewestEvent() {
        var config = TransformerConfig()
        (config.items, config.dimension, config.heads, config.blocks, config.maxLength, config.positions) = (9, 4, 1, 1, 5, .fromNewest)
        let encoder = SASRecEncoder(config: config, batch: 2, seed: 1)
        var noDropout: RandomSource? = nil
        encoder.forward([5, 6, 7, 0, 0, 8, 0, 0, 0, 0], rng: &noDropout)
        XCTAssertEqual(encoder.input.positionIds, [2, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        encoder.setLength(3)
        encoder.forward([5, 6, 7, 8, 9, 0], rng: &noDropout)
        XCTAssertEqual(encoder.input.positionIds, [2, 1, 0, 1, 0, 0])
        // Lengths, when given, are taken as they are rather than read off the padding ids.
        encoder.forward([5, 6, 7, 8, 9, 0], lengths: [2, 2], contextCounts: nil, timestamps: nil, rng: &noDropout)
        XCTAssertEqual(encoder.input.positionIds, [1, 0, 0, 1, 0, 0])
    }

    /// Every user in exactly one batch; within a group, batches ordered by length; one group is the
    /// plain shuffle.
    func testEpochBatchesGroupUsersByLength() {
        let lengths = (0..<1000).map { ($0 * 7919) % 97 + 2 }
        var rng = RandomSource(seed: 1)
        let grouped = EpochBatches.make(users: Array(0..<1000), batchSize: 32, groupBatches: 8, length: { lengths[$0] }, rng: &rng)
        XCTAssertEqual(grouped.flatMap { $0 }.sorted(), Array(0..<1000), "every user once")
        // Spread of lengths inside a batch: sorted groups of 256 users out of 97 lengths leave about 97/8
        // per batch, against the whole range for shuffled batches.
        let spread = grouped.map { b in (b.map { lengths[$0] }.max() ?? 0) - (b.map { lengths[$0] }.min() ?? 0) }
        XCTAssertLessThan(Double(spread.reduce(0, +)) / Double(spread.count), 25, "batches hold similar lengths")

        var a = RandomSource(seed: 2), b = RandomSource(seed: 2)
        let plain = EpochBatches.make(users: Array(0..<100), batchSize: 10, groupBatches: 1, length: { lengths[$0] }, rng: &a)
        var order = Array(0..<100)
        for i in stride(from: 99, to: 0, by: -1) { order.swapAt(i, b.below(i + 1)) }
        XCTAssertEqual(plain.flatMap { $0 }, order, "one group: the plain shuffled order")
        let spreadPlain = plain.map { b in (b.map { lengths[$0] }.max() ?? 0) - (b.map { lengths[$0] }.min() ?? 0) }
        XCTAssertGreaterThan(Double(spreadPlain.reduce(0, +)) / Double(spreadPlain.count), 50, "shuffled batches span the lengths")
    }

    /// A batch's weight is its share of the epoch's positions over the mean batch's: proportional to its
    /// positions, mean 1 over the epoch, 1 everywhere when the batches hold as many positions.
    func testPositionWeightsAreEachBatchsShareOfTheMean() {
        let lengths = (0..<100).map { ($0 * 37) % 11 + 1 }
        var rng = RandomSource(seed: 4)
        let batches = EpochBatches.make(users: Array(0..<100), batchSize: 8, groupBatches: 4, length: { lengths[$0] }, rng: &rng)
        let weights = EpochBatches.positionWeights(batches, positions: { lengths[$0] - 1 })
        XCTAssertEqual(weights.count, batches.count)
        XCTAssertEqual(Double(weights.reduce(0, +)) / Double(weights.count), 1, accuracy: 1e-6, "mean 1 over the epoch")
        let sums = batches.map { $0.reduce(0) { $0 + lengths[$1] - 1 } }
        for (weight, sum) in zip(weights, sums) {
            XCTAssertEqual(Double(weight), Double(sum) / Double(sums[0]) * Double(weights[0]), accuracy: 1e-5, "proportional to positions")
        }
        XCTAssertGreaterThan(weights.max()! / weights.min()!, 3, "grouped batches of 1 to 11 events differ")
        let even = [0..<4, 4..<8, 8..<12].map { Array($0)[...] }
        XCTAssertEqual(EpochBatches.positionWeights(even, positions: { _ in 5 }), [1, 1, 1], "equal batches weigh exactly 1")
        XCTAssertEqual(EpochBatches.positionWeights(even, positions: { _ in 0 }), [1, 1, 1], "no positions: no reweighting")
    }
}
