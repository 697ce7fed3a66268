/// Small row-wise helpers shared by layers.
enum Rows {
    /// y[r, :] += b for every row.
    static func addBias(_ b: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        Parallel.forRows(rows) { range in
            for r in range {
                let row = y + r * columns
                for c in 0..<columns { row[c] += b[c] }
            }
        }
    }

    /// out[c] += Σ_r x[r, c], in a fixed order (deterministic).
    static func accumulateColumnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * columns
            for c in 0..<columns { out[c] += row[c] }
        }
    }
}
