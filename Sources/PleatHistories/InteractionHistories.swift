import PleatStorage

/// Every user's history in time order, in compact arrays: the events of user slot u are
/// `items[offsets[u]..<offsets[u + 1]]`, with `times`, `behaviours` and `values` alongside: 18 bytes
/// an event (10^8 events: 1.8 GB), and 12 bytes a user.
public struct InteractionHistories: Sendable {
    /// Database user id of each slot.
    public var userIds: [Int32] = []
    public var offsets: [Int] = [0]
    /// Database item ids.
    public var items: [Int32] = []
    /// Unix seconds.
    public var times: [Int64] = []
    /// `event_types` ids: how each item was touched.
    public var behaviours: [Int16] = []
    /// Each event's value (rating, amount, dwell); NaN where the log has none.
    public var values: [Float] = []
    /// The newest committed ingest batch the data includes (the model registry's data snapshot).
    public var snapshotBatch: Int = 0

    /// The behaviour of events appended without one (histories built in memory rather than read).
    public static let unknownBehaviour: Int16 = 0

    public init() {}

    public var userCount: Int { userIds.count }
    public var eventCount: Int { items.count }

    public func range(_ slot: Int) -> Range<Int> { offsets[slot]..<offsets[slot + 1] }

    public mutating func append(user: Int32, item: Int32, time: Int64, behaviour: Int16 = unknownBehaviour, value: Float = .nan) {
        if userIds.last != user {
            if !userIds.isEmpty { offsets.append(items.count) }
            userIds.append(user)
        }
        items.append(item)
        times.append(time)
        behaviours.append(behaviour)
        values.append(value)
    }

    public mutating func append(_ event: StoredEvent) {
        append(user: event.user, item: event.item, time: event.second, behaviour: event.behaviour, value: event.value)
    }

    /// Room for `events` more events without reallocating.
    public mutating func reserveCapacity(events: Int) {
        items.reserveCapacity(events)
        times.reserveCapacity(events)
        behaviours.reserveCapacity(events)
        values.reserveCapacity(events)
    }

    public mutating func finish() {
        if !userIds.isEmpty { offsets.append(items.count) }
    }
}
