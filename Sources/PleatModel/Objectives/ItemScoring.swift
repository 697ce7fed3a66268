import PleatCore
import PleatTensor

/// The dot-product scoring rule of every model for one batch of encoded queries: score[r, j] =
/// ⟨users[r], table[j]⟩ (+ bias[j]) for items j in 1...items (column 0 is padding). Either every score
/// (`score(into:)`, for evaluation's ranks) or only each query's best k (`topK`), which scores the
/// catalogue in blocks of columns that stay in cache and never holds a full row: at 10⁶ items a batch of
/// 256 full rows would be a gigabyte. Valid until the model is next called.
public struct ItemScoring {
    /// Encoded queries (at least `count` rows).
    let users: Tensor
    let count: Int
    /// (items + 1) × users.columns.
    let table: UnsafePointer<Float>
    let bias: UnsafePointer<Float>?
    let items: Int
    /// Per query, scores of some items from a head other than the dot product (the repeat head's own
    /// items); nil: none.
    var overrides: ScoreOverrides? = nil

    /// Item columns scored at once by `topK`: a worker's block of 128 queries × 1,024 items is 512 KB,
    /// inside a core's L2 on the CPUs Pleat runs on.
    public static let blockColumns = 1_024

    /// Every score, columns 0...items (column 0 is whatever the padding row gives), split by rows over the cores.
    public func score(into scores: Tensor) {
        let d = users.columns, n = scores.columns
        precondition(scores.rows >= count && n == items + 1)
        withOverrides { overrides in
            Parallel.forRows(count, minimumPerWorker: 16) { range in
                Gemm.multiply(users.pointer + range.lowerBound * d, table, transposeB: true,
                              into: scores.pointer + range.lowerBound * n, m: range.count, n: n, k: d)
                if let bias {
                    for r in range { VectorMath.addScaled(bias, by: 1, into: scores.pointer + r * n, count: n) }
                }
                if let overrides { for r in range { overrides.write(row: r, into: scores.pointer + r * n) } }
            }
        }
    }

    func withOverrides<R>(_ body: (ScoreOverrides.Access?) -> R) -> R {
        guard let overrides else { return body(nil) }
        precondition(overrides.rows == count, "one row of overrides per query")
        return overrides.withAccess { body($0) }
    }

    /// Each query's k best items (indices 1...items, best first, ties to the lower index) and their
    /// scores, leaving out `excluded[r]` (any order; repeats allowed) and non-finite scores. `scratch`
    /// holds at least `count × blockColumns` floats.
    public func topK(k: Int, excluding excluded: [[Int32]], scratch: Tensor) -> [(items: [Int32], scores: [Float])] {
        precondition(excluded.count == count && scratch.count >= count * Self.blockColumns)
        let k = min(k, items)
        guard k > 0 else { return Array(repeating: ([], []), count: count) }
        var indices = [Int32](repeating: 0, count: count * k), selected = [Float](repeating: 0, count: count * k)
        var found = [Int](repeating: 0, count: count)
        indices.withUnsafeMutableBufferPointer { indices in
            selected.withUnsafeMutableBufferPointer { selected in
                found.withUnsafeMutableBufferPointer { found in withOverrides { overrides in
                    Parallel.forRows(count, minimumPerWorker: 8) { rows in
                        var selections = rows.map { TopK.Selection(k: k, indices: indices.start + $0 * k, scores: selected.start + $0 * k) }
                        scanBlocks(Self.blockFirsts(items: items), rows: rows, leftOut: rows.map { excluded[$0].sorted() },
                                   block: scratch.pointer + rows.lowerBound * Self.blockColumns, overrides: overrides) { q, row, first, width in
                            selections[q].offer(row, count: width, firstIndex: first)
                        }
                        for q in 0..<rows.count { found[rows.lowerBound + q] = selections[q].finish() }
                    }
                } }
            }
        }
        return (0..<count).map { r in (Array(indices[(r * k)..<(r * k + found[r])]), Array(selected[(r * k)..<(r * k + found[r])])) }
    }

    /// The first item of every block of the catalogue, in order.
    static func blockFirsts(items: Int) -> StrideThrough<Int> { stride(from: 1, through: items, by: blockColumns) }

    /// One worker's pass over the blocks starting at `firsts` (ascending) for its queries `rows`: each
    /// block of scores (bias added, overrides written, the query's `leftOut` items, ascending, set to
    /// −∞) goes to `body(q, row, first, width)`, q counting from 0 within `rows`. `block` holds
    /// `rows.count × blockColumns` floats. The same blocks give the same scores bit for bit, however
    /// many passes ask for them.
    func scanBlocks(_ firsts: some Sequence<Int>, rows: Range<Int>, leftOut: [[Int32]], block: UnsafeMutablePointer<Float>,
                    overrides: ScoreOverrides.Access?, _ body: (Int, UnsafeMutablePointer<Float>, Int, Int) -> Void) {
        precondition(leftOut.count == rows.count)
        let d = users.columns
        var next = [Int](repeating: 0, count: rows.count), nextOverride = next
        for first in firsts {
            let width = min(Self.blockColumns, items + 1 - first), end = Int32(first + width)
            Gemm.multiply(users.pointer + rows.lowerBound * d, table + first * d, transposeB: true,
                          into: block, m: rows.count, n: width, k: d)
            for q in 0..<rows.count {
                let row = block + q * width
                if let bias { VectorMath.addScaled(bias + first, by: 1, into: row, count: width) }
                overrides?.write(row: rows.lowerBound + q, intoBlock: row, first: first, width: width, cursor: &nextOverride[q])
                while next[q] < leftOut[q].count && leftOut[q][next[q]] < end {
                    let item = Int(leftOut[q][next[q]])
                    if item >= first { row[item - first] = -.infinity }
                    next[q] += 1
                }
                body(q, row, first, width)
            }
        }
    }
}
