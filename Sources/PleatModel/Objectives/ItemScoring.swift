import PleatTensor

/// scores[r, j] = ⟨users[r], table[j]⟩ (+ bias[j]) for j < scores.columns: the dot-product scoring rule
/// of every model, split by rows over the cores.
enum ItemScoring {
    static func score(users: Tensor, count: Int, table: UnsafePointer<Float>, bias: UnsafePointer<Float>? = nil, into scores: Tensor) {
        let d = users.columns, n = scores.columns
        precondition(scores.rows >= count)
        Parallel.forRows(count, minimumPerWorker: 16) { range in
            Gemm.multiply(users.pointer + range.lowerBound * d, table, transposeB: true,
                          into: scores.pointer + range.lowerBound * n, m: range.count, n: n, k: d)
            if let bias {
                for r in range { let row = scores.pointer + r * n; for j in 0..<n { row[j] += bias[j] } }
            }
        }
    }
}
