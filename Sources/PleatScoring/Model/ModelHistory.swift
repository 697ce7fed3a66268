/// A user's history as a model scores it: the events of items the model knows, in its item indices,
/// with their Unix seconds and behaviours (`event_types` ids; 0: none), oldest first.
public struct ModelHistory: Sendable {
    public var items: [Int32] = []
    public var times: [Int64] = []
    public var behaviours: [Int16] = []

    public init(items: [Int32] = [], times: [Int64] = [], behaviours: [Int16] = []) {
        precondition(items.count == times.count && items.count == behaviours.count)
        (self.items, self.times, self.behaviours) = (items, times, behaviours)
    }

    public var isEmpty: Bool { items.isEmpty }
}
