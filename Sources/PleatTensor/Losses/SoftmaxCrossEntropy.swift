import Foundation

/// Full-vocabulary softmax cross-entropy with a tied item table (BERT4Rec, SASRec + CE), model-spec §5.5(a):
///   z = E t + b,  ℓ = lse(z) − z_y,  dz = softmax(z) − onehot(y),  dT = dZ E,  dE += dZᵀ T,  db += Σ dZ.
///
/// Rows are processed in blocks, so at most `rowBlock × V` logits exist at a time; blocks are split over
/// the cores, each with its own dE and db partial sums, added in a fixed order (deterministic).
public struct SoftmaxCrossEntropy {
    public let rowBlock: Int
    /// Per-core scratch, kept from one step to the next (no allocation per step in steady state).
    private let workspace = Workspace()

    public init(rowBlock: Int = 256) { self.rowBlock = rowBlock }

    /// Weighted mean loss over rows with a label ≥ 0; writes dHidden, accumulates the table's and the
    /// bias's gradients. `overrides` (one row per hidden row) replace their items' logits, and their
    /// gradients are written back to them.
    public func lossAndGradient(hidden: Tensor, table: Parameter, bias: Parameter?, labels: [Int32],
                                weights: [Float]? = nil, overrides: ScoreOverrides? = nil, dHidden: Tensor) -> Double {
        let rows = hidden.rows, d = hidden.columns, vocabulary = table.shape[0]
        precondition(labels.count == rows && table.shape[1] == d && (overrides?.rows ?? rows) == rows)
        var totalWeight: Double = 0
        for r in 0..<rows where labels[r] >= 0 { totalWeight += Double(weights?[r] ?? 1) }
        dHidden.zero()
        guard totalWeight > 0 else { return 0 }
        let norm = Float(1 / totalWeight)
        let blocks = (rows + rowBlock - 1) / rowBlock
        let workers = min(Parallel.workers, blocks)
        let partials = workspace.partials(workers, vocabulary: vocabulary, dimension: d, block: rowBlock)
        let e = table.value.pointer, b = bias?.value.pointer

        let run = { (overrides: ScoreOverrides.Access?) in Parallel.forRows(workers, minimumPerWorker: 1) { workerRange in
            for worker in workerRange {
                let partial = partials[worker]
                for block in stride(from: worker, to: blocks, by: workers) {
                    let start = block * rowBlock, count = min(rowBlock, rows - start)
                    let t = hidden.pointer + start * d, z = partial.logits.pointer
                    Gemm.multiply(t, e, transposeB: true, into: z, m: count, n: vocabulary, k: d)
                    for r in 0..<count {
                        let row = z + r * vocabulary
                        let label = Int(labels[start + r])
                        guard label >= 0 else { row.update(repeating: 0, count: vocabulary); continue }
                        if let b { for j in 0..<vocabulary { row[j] += b[j] } }
                        overrides?.write(row: start + r, into: row)
                        let m = VectorMath.maximum(row, count: vocabulary)
                        let sum = VectorMath.expShiftAndSum(row, count: vocabulary, shift: m)
                        let w = (weights?[start + r] ?? 1) * norm
                        // ℓ = lse − z_y = −log p_y; p = exp(z − lse) reused for the gradient.
                        partial.loss += Double(w) * -log(Double(row[label] / sum))
                        VectorMath.scale(row, count: vocabulary, by: w / sum)
                        row[label] -= w
                        overrides?.gather(row: start + r, from: row)
                    }
                    Gemm.multiply(z, e, into: dHidden.pointer + start * d, m: count, n: d, k: vocabulary)
                    Gemm.multiply(z, transposeA: true, t, into: partial.dTable.pointer, m: vocabulary, n: d, k: count, beta: 1)
                    if b != nil { Rows.accumulateColumnSums(z, rows: count, columns: vocabulary, into: partial.dBias.pointer) }
                }
            }
        } }
        if let overrides { overrides.withAccess { run($0) } } else { run(nil) }
        var loss = 0.0
        for partial in partials {
            loss += partial.loss
            let g = table.grad.pointer, p = partial.dTable.pointer
            for i in 0..<(vocabulary * d) { g[i] += p[i] }
            if let bias { for j in 0..<vocabulary { bias.grad.pointer[j] += partial.dBias.pointer[j] } }
        }
        return loss
    }

    /// One worker's scratch logits and gradient sums.
    private final class Partial: @unchecked Sendable {
        let logits: Tensor, dTable: Tensor, dBias: Tensor
        var loss = 0.0
        init(vocabulary: Int, dimension: Int, block: Int) {
            logits = Tensor([block, vocabulary])
            dTable = Tensor([vocabulary, dimension])
            dBias = Tensor([vocabulary])
        }

        func reset() {
            loss = 0
            dTable.zero()
            dBias.zero()
        }
    }

    private final class Workspace: @unchecked Sendable {
        private var cached: [Partial] = []
        private var shape: [Int] = []

        func partials(_ count: Int, vocabulary: Int, dimension: Int, block: Int) -> [Partial] {
            if shape != [count, vocabulary, dimension, block] {
                cached = (0..<count).map { _ in Partial(vocabulary: vocabulary, dimension: dimension, block: block) }
                shape = [count, vocabulary, dimension, block]
            } else {
                for partial in cached { partial.reset() }
            }
            return cached
        }
    }
}
