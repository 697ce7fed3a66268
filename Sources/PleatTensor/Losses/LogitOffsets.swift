/// Scores of chosen items from a head that is not a dot product with the item table, a few per row (a
/// sparse rows × items matrix, rows in CSR form, items ascending within a row), added to the dot
/// products or, with `replacesScores`, in their place; and the loss's gradient with respect to each.
/// How such a head (the repeat head: the user's own items) enters a loss over every item or over
/// sampled ones, and the scores that rank and serve, without a dense rows × items matrix. A replaced
/// score passes no gradient to the dot product it replaced.
public final class LogitOffsets {
    /// Whether the values replace the items' dot-product scores instead of adding to them.
    public let replacesScores: Bool
    /// Row r's entries are `rowStarts[r]..<rowStarts[r + 1]`.
    public private(set) var rowStarts: [Int] = [0]
    public private(set) var items: [Int32] = []
    /// The offset of each entry, set by the head that owns them.
    public var values: [Float] = []
    /// ∂loss/∂offset of each entry, written by the loss (`gather`).
    public var gradients: [Float] = []
    /// Item → entry + 1 of the row being matched against sampled ids (0: none); kept between calls.
    private var marks: [Int32] = []

    public init(replacesScores: Bool = false) { self.replacesScores = replacesScores }

    public var rows: Int { rowStarts.count - 1 }
    public func entries(row r: Int) -> Range<Int> { rowStarts[r]..<rowStarts[r + 1] }

    public func clear() {
        rowStarts.removeAll(keepingCapacity: true)
        rowStarts.append(0)
        items.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        gradients.removeAll(keepingCapacity: true)
    }

    /// Adds a row whose entries are `rowItems` (distinct, ascending), offsets 0 until set.
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
        let replaces: Bool

        /// Applies row r's values to a row of scores indexed by item.
        public func add(row r: Int, to scores: UnsafeMutablePointer<Float>) {
            for e in starts[r]..<starts[r + 1] { apply(values[e], to: &scores[Int(items[e])]) }
        }

        @inline(__always) func apply(_ value: Float, to score: inout Float) {
            if replaces { score = value } else { score += value }
        }

        /// Adds row r's offsets for items in `first..<first + width` to a block of scores whose column 0
        /// is item `first`; `cursor` walks the row's entries across the blocks of one pass (start at 0).
        public func add(row r: Int, toBlock block: UnsafeMutablePointer<Float>, first: Int, width: Int, cursor: inout Int) {
            let end = starts[r + 1]
            while starts[r] + cursor < end && Int(items[starts[r] + cursor]) < first + width {
                let e = starts[r] + cursor, item = Int(items[e])
                if item >= first { apply(values[e], to: &block[item - first]) }
                cursor += 1
            }
        }

        /// Sets row r's gradients from the loss's gradient with respect to a row of scores indexed by
        /// item; a replaced score's gradient is then cleared there, so none reaches its dot product.
        public func gather(row r: Int, from dScores: UnsafeMutablePointer<Float>) {
            for e in starts[r]..<starts[r + 1] {
                gradients[e] = dScores[Int(items[e])]
                if replaces { dScores[Int(items[e])] = 0 }
            }
        }

        public var replacesScores: Bool { replaces }

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
                        body(Access(starts: starts, items: items, values: values, gradients: gradients, replaces: replacesScores))
                    }
                }
            }
        }
    }

    // MARK: Scores of sampled candidates

    /// For scores laid out rows × `columns` against `ids` (`ItemScores`): applies each row's value to
    /// every column whose id is one of the row's items.
    public func add(toSampled scores: inout [Float], ids: [Int32], columns: Int) {
        forEachMatch(ids: ids, columns: columns) { index, entry in
            if replacesScores { scores[index] = values[entry] } else { scores[index] += values[entry] }
        }
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
