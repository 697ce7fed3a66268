/// A user's history as a model scores it: the events of items the model knows, in its item indices,
/// with their Unix seconds, behaviours (`event_types` ids; 0: none) and values (NaN: none), oldest first.
public struct ModelHistory: Sendable {
    public var items: [Int32] = []
    public var times: [Int64] = []
    public var behaviours: [Int16] = []
    public var values: [Float] = []

    /// `values` nil: no event has one.
    public init(items: [Int32] = [], times: [Int64] = [], behaviours: [Int16] = [], values: [Float]? = nil) {
        let values = values ?? [Float](repeating: .nan, count: items.count)
        precondition(items.count == times.count && items.count == behaviours.count && items.count == values.count)
        (self.items, self.times, self.behaviours, self.values) = (items, times, behaviours, values)
    }

    public var isEmpty: Bool { items.isEmpty }
}
