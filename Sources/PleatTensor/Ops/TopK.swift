/// The k best entries of a score row by partial selection: one pass with a k-entry min-heap
/// (O(n log k), no allocation), then the k survivors sorted best first. Ties keep the lower index
/// first, so results are deterministic. Entries equal to −∞ (excluded items) are never selected.
public enum TopK {
    /// Writes up to k (index, score) pairs of `row[0..<count]` into `indices`/`scores`, best first, and
    /// returns how many there are (fewer than k when fewer entries are finite).
    public static func select(_ row: UnsafePointer<Float>, count: Int, k: Int,
                              indices: UnsafeMutablePointer<Int32>, scores: UnsafeMutablePointer<Float>) -> Int {
        var selection = Selection(k: k, indices: indices, scores: scores)
        selection.offer(row, count: count, firstIndex: 0)
        return selection.finish()
    }

    /// A selection fed a row in pieces (`offer`, in index order), so that a row too long to keep, such as
    /// one user's scores over a million items, can be scored block by block while the block is in cache.
    /// The same pieces in one `offer` or many give the same result.
    public struct Selection {
        public let k: Int
        private let indices: UnsafeMutablePointer<Int32>
        private let scores: UnsafeMutablePointer<Float>
        private var size = 0

        /// Keeps its k entries in `indices`/`scores` (k each), heap-ordered until `finish`.
        public init(k: Int, indices: UnsafeMutablePointer<Int32>, scores: UnsafeMutablePointer<Float>) {
            (self.k, self.indices, self.scores) = (k, indices, scores)
        }

        /// Offers `row[0..<count]` as the entries `firstIndex..<firstIndex + count`; indices must grow
        /// from one call to the next.
        public mutating func offer(_ row: UnsafePointer<Float>, count: Int, firstIndex: Int) {
            guard k > 0 else { return }
            var j = 0
            // Filling: every finite entry goes in.
            while j < count && size < k {
                let s = row[j]
                if s > -Float.infinity { push(Int32(firstIndex + j), s) }
                j += 1
            }
            // Full: only entries above the worst kept one (a later index never beats an equal score, so
            // ties keep the lower index). Most are not, so the scan for them runs at the vector width.
            while j < count {
                j += VectorMath.firstAbove(row + j, count: count - j, threshold: scores[0])
                guard j < count else { return }
                indices[0] = Int32(firstIndex + j); scores[0] = row[j]
                siftDown(0, size)
                j += 1
            }
        }

        /// Sorts the kept entries best first and returns how many there are.
        public mutating func finish() -> Int {
            // Heap sort: repeatedly move the worst to the end, leaving the best first.
            var end = size
            while end > 1 {
                end -= 1
                swapAt(0, end)
                siftDown(0, end)
            }
            return size
        }

        // Min-heap on (score, −index): the root is the worst kept entry.
        @inline(__always) private func worse(_ a: Int, _ b: Int) -> Bool {
            scores[a] < scores[b] || (scores[a] == scores[b] && indices[a] > indices[b])
        }

        @inline(__always) private func swapAt(_ a: Int, _ b: Int) {
            (indices[a], indices[b]) = (indices[b], indices[a])
            (scores[a], scores[b]) = (scores[b], scores[a])
        }

        private mutating func push(_ index: Int32, _ score: Float) {
            indices[size] = index; scores[size] = score
            var i = size
            size += 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard worse(i, parent) else { break }
                swapAt(i, parent)
                i = parent
            }
        }

        private func siftDown(_ start: Int, _ size: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < size && worse(l, m) { m = l }
                if r < size && worse(r, m) { m = r }
                if m == i { return }
                swapAt(i, m)
                i = m
            }
        }
    }
}
