extension InteractionHistories {
    /// Histories of disjoint user sets (each in user-id order, as a partition reads) merged into one in
    /// user-id order.
    static func merging(_ parts: [InteractionHistories]) -> InteractionHistories {
        if parts.count == 1 { return parts[0] }
        var order: [(user: Int32, part: Int32, slot: Int32)] = []
        order.reserveCapacity(parts.reduce(0) { $0 + $1.userCount })
        for (p, part) in parts.enumerated() {
            for slot in 0..<part.userCount { order.append((part.userIds[slot], Int32(p), Int32(slot))) }
        }
        order.sort { $0.user < $1.user }
        var merged = InteractionHistories()
        let events = parts.reduce(0) { $0 + $1.eventCount }
        merged.userIds.reserveCapacity(order.count)
        merged.offsets.reserveCapacity(order.count + 1)
        merged.reserveCapacity(events: events)
        for entry in order {
            let part = parts[Int(entry.part)], range = part.range(Int(entry.slot))
            merged.userIds.append(entry.user)
            merged.items.append(contentsOf: part.items[range])
            merged.times.append(contentsOf: part.times[range])
            merged.behaviours.append(contentsOf: part.behaviours[range])
            merged.values.append(contentsOf: part.values[range])
            merged.offsets.append(merged.items.count)
        }
        return merged
    }
}
