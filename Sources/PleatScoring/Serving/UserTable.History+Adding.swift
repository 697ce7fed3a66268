import PleatStorage

extension UserTable.History {
    /// One event in this database's ids.
    struct Event: Equatable {
        var item: Int32, second: Int64, eventType: Int16, value: Float

        /// Ingest's primary key (user, time, item, event type) within one user: two events with the same
        /// key are one stored event.
        var key: Key { Key(second: second, item: item, eventType: eventType) }

        struct Key: Hashable, Comparable {
            let second: Int64, item: Int32, eventType: Int16
            /// `UserTable.history`'s order: time, then item id, then event type.
            static func < (a: Key, b: Key) -> Bool { (a.second, a.item, a.eventType) < (b.second, b.item, b.eventType) }
        }
    }

    /// The history with `events` added where an ingest of them would put them: in time, item id and
    /// event type order, an event identical (same key) to a stored one or to an earlier one of `events`
    /// counted once, as ingest's primary key counts it. Returns which of `events` were added.
    mutating func add(_ events: [Event]) -> [Bool] {
        var added = [Bool](repeating: false, count: events.count)
        var keys = Set((0..<count).map { Event(item: items[$0], second: seconds[$0], eventType: eventTypes[$0], value: values[$0]).key })
        var kept: [Int] = []
        for (i, event) in events.enumerated() where keys.insert(event.key).inserted {
            kept.append(i)
            added[i] = true
        }
        kept.sort { events[$0].key < events[$1].key }
        var merged = Self()
        func append(_ e: Event) {
            merged.items.append(e.item); merged.seconds.append(e.second); merged.eventTypes.append(e.eventType); merged.values.append(e.value)
        }
        var stored = 0, next = 0
        while stored < count || next < kept.count {
            let storedEvent = stored < count ? Event(item: items[stored], second: seconds[stored], eventType: eventTypes[stored], value: values[stored]) : nil
            if let storedEvent, next == kept.count || !(events[kept[next]].key < storedEvent.key) {
                append(storedEvent); stored += 1
            } else {
                append(events[kept[next]]); next += 1
            }
        }
        assert(merged.count == count + kept.count)
        self = merged
        return added
    }
}
