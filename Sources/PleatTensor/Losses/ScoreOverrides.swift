/// Scores of chosen items that replace their dot products with the item table, a few per row (a sparse
/// rows × items matrix, rows in CSR form, items ascending within a row), and the loss's gradient with
/// respect to each. How a head that is not a dot product (the repeat head: the user's own items) enters
/// a loss over every item or over sampled ones, and the scores that rank and serve, without a dense
/// rows × items matrix. A replaced score passes no gradient to the dot product it replaced.
public final class ScoreOverrides {
    /// Row r's entries are `rowStarts[r]..<rowStarts[r + 1]`.
    public private(set) var rowStarts: [Int] = [0]
    public private(set) var items: [Int32] = []
    /// The score of each entry, set by the head that owns them.
    public var values: [Float] = []
    /// ∂loss/∂offset of each entry, written by the loss (`gather`).
    public var gradients: [Float] = []
    /// Item → entry + 1 of the row being matched against sampled ids (0: none); kept between calls.
    private var marks: [Int32] = []

    public init() {}

    public var rows: Int { rowStarts.count - 1 }
    public func entries(row r: Int) -> Range<Int> { rowStarts[r]..<rowStarts[r + 1] }

    public func clear() {
        rowStarts.removeAll(keepingCapacity: true)
        rowStarts.append(0)
        items.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        gradients.removeAll(keepingCapacity: true)
    }

    /// Adds a row whose entries are `rowItems` (distinct, ascending), scores 0 until set.
    public func appendRow(_ rowItems: some Collection<Int32>) {
        assert(zip(rowItems, rowItems.dropFirst()).allSatisfy { $0 < $1 }, "a row's items are distinct and ascending")
        items.append(contentsOf: rowItems)
        rowStarts.append(items.count)
        values.append(contentsOf: repeatElement(0, count: rowItems.count))
        gradients.append(contentsOf: repeatElement(0, count: rowItems.count))
    }

    // MARK: Scores over the whole catalogue (index = item)

    /// Row-wise access through raw pointers, for loops that run rows on several cores (each row's
    /// entries are touched by the worker of that row only). Valid inside `withAccess`.
    public struct Access: @unchecked Sendable {
        let starts: UnsafeBufferPointer<Int>, items: UnsafeBufferPointer<Int32>
        let values: UnsafeBufferPointer<Float>, gradients: UnsafeMutableBufferPointer<Float>

        /// Writes row r's scores into a row of scores indexed by item.
        public func write(row r: Int, into scores: UnsafeMutablePointer<Float>) {
            for e in starts[r]..<starts[r + 1] { scores[Int(items[e])] = values[e] }
        }

        /// Writes row r's scores of items in `first..<first + width` into a block of scores whose column 0
        /// is item `first`; `cursor` walks the row's entries across the blocks of one pass (start at 0).
        public func write(row r: Int, intoBlock block: UnsafeMutablePointer<Float>, first: Int, width: Int, cursor: inout Int) {
            let end = starts[r + 1]
            while starts[r] + cursor < end && Int(items[starts[r] + cursor]) < first + width {
                let e = starts[r] + cursor, item = Int(items[e])
                if item >= first { block[item - first] = values[e] }
                cursor += 1
            }
        }

        /// Sets row r's gradients from the loss's gradient with respect to a row of scores indexed by
        /// item, and clears them there: none reaches the dot products replaced.
        public func gather(row r: Int, from dScores: UnsafeMutablePointer<Float>) {
            for e in starts[r]..<starts[r + 1] {
                gradients[e] = dScores[Int(items[e])]
                dScores[Int(items[e])] = 0
            }
        }

        public func entries(row r: Int) -> Range<Int> { starts[r]..<starts[r + 1] }
        public func item(_ e: Int) -> Int32 { items[e] }
        public func value(_ e: Int) -> Float { values[e] }
        public func setGradient(_ e: Int, _ g: Float) { gradients[e] = g }
    }

    public func withAccess<R>(_ body: (Access) -> R) -> R {
        rowStarts.withUnsafeBufferPointer { starts in
            items.withUnsafeBufferPointer { items in
                values.withUnsafeBufferPointer { values in
                    gradients.withUnsafeMutableBufferPointer { gradients in
                        body(Access(starts: starts, items: items, values: values, gradients: gradients))
                    }
                }
            }
        }
    }

    // MARK: Scores of sampled candidates

    /// For scores laid out rows × `columns` against `ids` (`ItemScores`): writes each row's score into
    /// every column whose id is one of the row's items.
    public func write(intoSampled scores: inout [Float], ids: [Int32], columns: Int) {
        forEachMatch(ids: ids, columns: columns) { index, entry in scores[index] = values[entry] }
    }

    private func forEachMatch(ids: [Int32], columns: Int, _ body: (_ index: Int, _ entry: Int) -> Void) {
        precondition(ids.count == rows * columns)
        let largest = Int(max(items.max() ?? 0, ids.max() ?? 0))
        if marks.count <= largest { marks = [Int32](repeating: 0, count: largest + 1) }
        for r in 0..<rows {
            for e in entries(row: r) { marks[Int(items[e])] = Int32(e + 1) }
            for c in 0..<columns {
                let mark = marks[Int(ids[r * columns + c])]
                if mark > 0 { body(r * columns + c, Int(mark) - 1) }
            }
            for e in entries(row: r) { marks[Int(items[e])] = 0 }
        }
    }
}
