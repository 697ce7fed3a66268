/// Every user's history in time order, in compact arrays: the events of user slot u are
/// `items[offsets[u]..<offsets[u + 1]]` (with `times` alongside). 10 M events take about 120 MB.
public struct InteractionHistories: Sendable {
    /// Database user id of each slot.
    public var userIds: [Int32] = []
    public var offsets: [Int] = [0]
    /// Database item ids.
    public var items: [Int32] = []
    /// Unix seconds.
    public var times: [Int64] = []
    /// The newest committed ingest batch the data includes (the model registry's data snapshot).
    public var snapshotBatch: Int = 0

    public init() {}

    public var userCount: Int { userIds.count }
    public var eventCount: Int { items.count }

    public func range(_ slot: Int) -> Range<Int> { offsets[slot]..<offsets[slot + 1] }

    public mutating func append(user: Int32, item: Int32, time: Int64) {
        if userIds.last != user {
            if !userIds.isEmpty { offsets.append(items.count) }
            userIds.append(user)
        }
        items.append(item)
        times.append(time)
    }

    public mutating func finish() {
        if !userIds.isEmpty { offsets.append(items.count) }
    }
}
