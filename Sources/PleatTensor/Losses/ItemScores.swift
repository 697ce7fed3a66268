/// Dot-product scores of hidden states against chosen item rows, s[r, c] = ⟨h_r, E[ids[r, c]]⟩,
/// for losses with explicit positives and negatives (BCE, gBCE).
public enum ItemScores {
    /// `ids` is rows × columns; writes the scores in the same layout into `scores` (reused by the
    /// caller from step to step, so nothing is allocated once its size is right).
    public static func forward(hidden: Tensor, table: Parameter, ids: [Int32], columns: Int, into scores: inout [Float]) {
        let rows = hidden.rows, d = hidden.columns, e = table.value.pointer
        if scores.count != rows * columns { scores = [Float](repeating: 0, count: rows * columns) }
        scores.withUnsafeMutableBufferPointer { out in
            Parallel.forRows(rows) { range in
                for r in range {
                    let h = hidden.pointer + r * d
                    for c in 0..<columns {
                        out[r * columns + c] = VectorMath.dot(h, e + Int(ids[r * columns + c]) * d, count: d)
                    }
                }
            }
        }
    }

    /// dh_r += Σ_c ds[r, c]·E[ids]  and  dE[ids[r, c]] += ds[r, c]·h_r (in row order).
    public static func backward(hidden: Tensor, table: Parameter, ids: [Int32], columns: Int,
                                dScores: [Float], dHidden: Tensor) {
        let rows = hidden.rows, d = hidden.columns, e = table.value.pointer, g = table.grad.pointer
        Parallel.forRows(rows) { range in
            for r in range {
                let dh = dHidden.pointer + r * d
                for c in 0..<columns where dScores[r * columns + c] != 0 {
                    VectorMath.addScaled(e + Int(ids[r * columns + c]) * d, by: dScores[r * columns + c], into: dh, count: d)
                }
            }
        }
        for r in 0..<rows {
            let h = hidden.pointer + r * d
            for c in 0..<columns where dScores[r * columns + c] != 0 {
                VectorMath.addScaled(h, by: dScores[r * columns + c], into: g + Int(ids[r * columns + c]) * d, count: d)
            }
        }
    }
}
