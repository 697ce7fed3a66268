import Foundation
import PleatCore
import PleatMPI
import PleatModel
import PleatTensor

/// `pleat bench gradient-exchange` (run it under mpirun): the time to average one model's gradient over
/// the ranks, and, with `check`, whether that average equals the gradient one process computes over the
/// same global batch.
///
/// The global batch is drawn from a fixed seed; rank r takes its r-th slice. Dropout is off, so that
/// the two computations see the same function (dropout masks are drawn per rank). BERT4Rec draws its
/// masked positions per rank too, so its check compares different losses and is not made.
public struct GradientExchangeBenchmark {
    public struct Result: Codable, Sendable {
        public var model: String
        public var ranks: Int
        public var items: Int
        public var parameters: Int
        public var megabytes: Double
        public var exchangeMedianMs: Double
        public var exchangeMinMs: Double
        public var exchangeMaxMs: Double
        /// With `check`: the largest |averaged − single-process| over every gradient entry, and the
        /// largest |single-process| entry it is measured against.
        public var maxAbsoluteDifference: Double?
        public var maxAbsoluteGradient: Double?
        /// Rows of the embedding tables sent (with a gradient on some rank), of all their rows.
        public var tableRowsSent: Int
        public var tableRows: Int
    }

    public var items = 20_000
    public var batchSize = 64
    public var maxLength = 50
    public var repeats = 7
    /// SASRec's loss (`TrainingConfig` default otherwise): sampled ones leave most item rows without a gradient.
    public var sasrecLoss: SASRecSettings.Loss?
    public let communicator: Communicator

    public init(communicator: Communicator) { self.communicator = communicator }

    public func run(model kind: ModelKind, check: Bool) -> Result {
        var spec = TrainingConfig(model: kind).spec
        spec.maxLength = maxLength
        if let sasrecLoss { spec.sasrec.loss = sasrecLoss }
        (spec.sasrec.encoder.dropout, spec.bert4rec.encoder.dropout, spec.hstu.encoder.dropout) = (0, 0, 0)
        let sequences = globalBatch()
        var parallel = DataParallel(communicator)
        let rankBatch = parallel.rankBatchSize(batchSize)
        let mine = Array(sequences[min(communicator.rank * rankBatch, sequences.count)..<min((communicator.rank + 1) * rankBatch, sequences.count)])

        let model = spec.makeModel(batchSize: rankBatch, seed: 1, items: items)
        model.store.zeroGrad()
        var rng = RandomSource(seed: 3)
        let loss = mine.isEmpty ? 0 : model.trainStep(mine, rng: &rng)
        _ = parallel.averageGradients(model.store, loss: loss, terms: mine.isEmpty ? 0 : model.lossTerms)
        var result = Result(model: kind.rawValue, ranks: communicator.size, items: items, parameters: model.store.scalarCount,
                            megabytes: Double(model.store.scalarCount * 4) / 1e6, exchangeMedianMs: 0, exchangeMinMs: 0, exchangeMaxMs: 0,
                            tableRowsSent: parallel.exchangedTableRows.sent, tableRows: parallel.exchangedTableRows.all)

        if check && kind != .bert4rec && communicator.rank == 0 {
            let single = spec.makeModel(batchSize: batchSize, seed: 1, items: items)
            single.store.zeroGrad()
            var singleRng = RandomSource(seed: 3)
            _ = single.trainStep(sequences, rng: &singleRng)
            var difference = 0.0, largest = 0.0
            for (a, b) in zip(model.store.parameters, single.store.parameters) {
                for i in 0..<a.grad.count {
                    difference = max(difference, Double(abs(a.grad.pointer[i] - b.grad.pointer[i])))
                    largest = max(largest, Double(abs(b.grad.pointer[i])))
                }
            }
            (result.maxAbsoluteDifference, result.maxAbsoluteGradient) = (difference, largest)
        }

        // The exchange alone, of the step's gradient each time, each repeat started together.
        let stepGradient = model.store.parameters.map { Array(UnsafeBufferPointer(start: $0.grad.pointer, count: $0.grad.count)) }
        var times: [Double] = []
        for _ in 0..<repeats {
            for (p, g) in zip(model.store.parameters, stepGradient) { p.grad.pointer.update(from: g, count: g.count) }
            communicator.barrier()
            let start = DispatchTime.now().uptimeNanoseconds
            _ = parallel.averageGradients(model.store, loss: loss, terms: 1)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        times.sort()
        (result.exchangeMedianMs, result.exchangeMinMs, result.exchangeMaxMs) = (times[times.count / 2], times[0], times[times.count - 1])
        return result
    }

    /// `batchSize` sequences of 2 … `maxLength` events, the same on every rank.
    private func globalBatch() -> [EventSequence] {
        var rng = RandomSource(seed: 11)
        let catalogue = items
        return (0..<batchSize).map { _ in
            let length = 2 + rng.below(maxLength - 1)
            let items = (0..<length).map { _ in Int32(1 + rng.below(catalogue)) }
            var time = Int64(1_600_000_000)
            let times = (0..<length).map { _ in time += Int64(1 + rng.below(86_400)); return time }
            return EventSequence(items: items[...], times: times[...])
        }
    }
}
