/// The k best entries of a score row by partial selection: one pass with a k-entry min-heap
/// (O(n log k), no allocation), then the k survivors sorted best first. Ties keep the lower index
/// first, so results are deterministic. Entries equal to −∞ (excluded items) are never selected.
public enum TopK {
    /// Writes up to k (index, score) pairs of `row[0..<count]` into `indices`/`scores`, best first, and
    /// returns how many there are (fewer than k when fewer entries are finite).
    public static func select(_ row: UnsafePointer<Float>, count: Int, k: Int,
                              indices: UnsafeMutablePointer<Int32>, scores: UnsafeMutablePointer<Float>) -> Int {
        var size = 0
        // Min-heap on (score, −index): the root is the worst kept entry.
        @inline(__always) func worse(_ a: Int, _ b: Int) -> Bool {
            scores[a] < scores[b] || (scores[a] == scores[b] && indices[a] > indices[b])
        }
        @inline(__always) func swapAt(_ a: Int, _ b: Int) {
            (indices[a], indices[b]) = (indices[b], indices[a])
            (scores[a], scores[b]) = (scores[b], scores[a])
        }
        func siftDown(_ start: Int, _ size: Int) {
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
        guard k > 0 else { return 0 }
        for j in 0..<count {
            let s = row[j]
            guard s > -Float.infinity else { continue }
            if size < k {
                indices[size] = Int32(j); scores[size] = s
                var i = size
                size += 1
                while i > 0 {
                    let parent = (i - 1) / 2
                    guard worse(i, parent) else { break }
                    swapAt(i, parent)
                    i = parent
                }
            } else if s > scores[0] {
                // A later index never beats an equal score (ties keep the lower index).
                indices[0] = Int32(j); scores[0] = s
                siftDown(0, size)
            }
        }
        // Heap sort: repeatedly move the worst to the end, leaving the best first.
        var end = size
        while end > 1 {
            end -= 1
            swapAt(0, end)
            siftDown(0, end)
        }
        return size
    }
}
