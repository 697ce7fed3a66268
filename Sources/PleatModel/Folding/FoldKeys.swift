/// The fold key of an event: a fixed key per item (category, cluster) or a time window relative to the
/// start of the recent window. Key ids start at 1; 0 means the event is not folded.
///
/// A trained model keeps its keys frozen in its artifact: the table of the items it knows, as it was at
/// training time. Items without a category then have key 0 (not folded); with cluster keys, items the
/// cluster source model did not know share the last key. Items the model itself does not know never
/// reach it (they are left out of its histories), so new items and new categories change nothing.
public enum FoldKeys: Sendable, Equatable {
    /// `itemKeys[model index]` (0: the item has no key and is not folded); `names[key − 1]`, when known.
    case perItem([Int32], count: Int, names: [String]? = nil)
    /// ⌊(window start − t) / width⌋ + 1, capped at `count`.
    case timeWindow(seconds: Int64, count: Int)

    public var count: Int {
        switch self {
        case .perItem(_, let count, _), .timeWindow(_, let count): return count
        }
    }

    @inline(__always) func key(item: Int32, time: Int64, windowStart: Int64) -> Int32 {
        switch self {
        case .perItem(let keys, _, _): return keys[Int(item)]
        case .timeWindow(let width, let count): return Int32(min(Int64(count), max(0, windowStart - time) / max(width, 1) + 1))
        }
    }
}
