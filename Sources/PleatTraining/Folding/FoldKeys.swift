/// The fold key of an event: a fixed key per item (category, cluster) or a time window relative to the
/// start of the recent window. Key ids start at 1.
public enum FoldKeys: Sendable {
    /// `itemKeys[model index]` (0: the item has no key and is not folded).
    case perItem([Int32], count: Int)
    /// ⌊(window start − t) / width⌋ + 1, capped at `count`.
    case timeWindow(seconds: Int64, count: Int)

    public var count: Int {
        switch self {
        case .perItem(_, let count), .timeWindow(_, let count): return count
        }
    }

    @inline(__always) func key(item: Int32, time: Int64, windowStart: Int64) -> Int32 {
        switch self {
        case .perItem(let keys, _): return keys[Int(item)]
        case .timeWindow(let width, let count): return Int32(min(Int64(count), max(0, windowStart - time) / max(width, 1) + 1))
        }
    }
}
