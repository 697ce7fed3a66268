import PleatMetrics
import PleatMPI
import PleatTensor

/// What data parallelism adds to the training loop: every rank trains the same model on its own users,
/// and after each backward pass the ranks' gradients become the global batch's.
///
/// Each rank's gradient is the mean over its own loss terms (labelled positions), so the global mean is
/// Σ_r n_r·g_r / Σ_r n_r; the weighted gradients are summed in rank order (`Communicator`), which gives
/// every rank the same bits, so the replicas stay identical through Adam without exchanging weights.
///
/// Embedding tables (parameters of at least `sparseRows` rows) are exchanged by rows: the ranks first
/// add up which rows carry a gradient anywhere (one integer per row, exact), then send only those rows,
/// in row order. With the full softmax every item row has a gradient at each step and this costs one
/// integer per row more than a dense sum; with sampled losses over a large catalogue only the rows of
/// the batch's items and negatives travel.
struct DataParallel {
    let communicator: Communicator
    /// Tables with at least this many rows are exchanged by rows.
    static let sparseRows = 1_024
    private var buffer: [Float] = []
    private var marks: [Int64] = []

    init(_ communicator: Communicator) { self.communicator = communicator }

    var rank: Int { communicator.rank }
    var isDistributed: Bool { communicator.isDistributed }

    /// Sequences per step on each rank: the global `batchSize` split over the ranks (rounded up).
    func rankBatchSize(_ batchSize: Int) -> Int { (batchSize + communicator.size - 1) / communicator.size }

    /// Replaces this rank's gradients (mean over `terms`) by the global batch's mean gradient and
    /// returns the global mean loss. A rank without a batch this step passes terms 0.
    mutating func averageGradients(_ store: ParameterStore, loss: Double, terms: Int) -> Double {
        guard isDistributed else { return loss }
        let tables = store.parameters.filter { $0.grad.shape.count == 2 && $0.grad.shape[0] >= Self.sparseRows }
        // Rows of the tables with a gradient on any rank.
        marks.removeAll(keepingCapacity: true)
        for table in tables {
            let columns = table.grad.shape[1], g = table.grad.pointer
            for row in 0..<table.grad.shape[0] {
                var touched: Int64 = 0
                for i in (row * columns)..<((row + 1) * columns) where g[i] != 0 { touched = 1; break }
                marks.append(touched)
            }
        }
        communicator.sum(&marks)

        // Pack every other parameter whole and the tables' marked rows, weighted; then the loss and the terms.
        let segments = exchangedSegments(store, tables: tables)
        let weight = Float(terms)
        buffer.removeAll(keepingCapacity: true)
        for (start, count) in segments { for i in 0..<count { buffer.append(start[i] * weight) } }
        buffer.append(Float(loss) * weight)
        buffer.append(weight)
        buffer.withUnsafeMutableBufferPointer { communicator.sumInRankOrder($0) }

        // Unpack as the mean (rows nobody sent are zero on every rank already).
        let total = max(buffer[buffer.count - 1], 1)
        var offset = 0
        for (start, count) in segments {
            for i in 0..<count { start[i] = buffer[offset + i] / total }
            offset += count
        }
        return Double(buffer[buffer.count - 2] / total)
    }

    /// The gradient memory that travels, in order: whole parameters, and the marked rows of the tables.
    private func exchangedSegments(_ store: ParameterStore, tables: [Parameter]) -> [(UnsafeMutablePointer<Float>, Int)] {
        var segments: [(UnsafeMutablePointer<Float>, Int)] = [], mark = 0
        for p in store.parameters {
            guard tables.contains(where: { $0 === p }) else { segments.append((p.grad.pointer, p.grad.count)); continue }
            let columns = p.grad.shape[1]
            for row in 0..<p.grad.shape[0] {
                if marks[mark] > 0 { segments.append((p.grad.pointer + row * columns, columns)) }
                mark += 1
            }
        }
        return segments
    }

    /// Rows of the embedding tables sent at the last exchange, and all their rows.
    var exchangedTableRows: (sent: Int, all: Int) { (marks.filter { $0 > 0 }.count, marks.count) }

    /// Metrics over every rank's users.
    func combined(_ metrics: RankingMetrics) -> RankingMetrics {
        guard isDistributed else { return metrics }
        var totals = metrics.totals
        communicator.sumInRankOrder(&totals)
        return RankingMetrics(cutoffs: metrics.cutoffs, totals: totals)
    }

    /// Counts summed over the ranks.
    func combined(_ counts: [Int]) -> [Int] {
        guard isDistributed else { return counts }
        var values = counts.map(Int64.init)
        communicator.sum(&values)
        return values.map(Int.init)
    }
}
