/// A valid event with internal ids, waiting to be sorted, de-duplicated and stored.
struct PendingEvent {
    var micros: Int64
    var line: Int64
    var user: Int32
    var item: Int32
    /// NaN stands for "no value" (the parser never accepts NaN as a value).
    var value: Float
    var event: Int16
    /// The user's partition of `interactions` (`InteractionPartitions.partition(ofUser:)`).
    var partition: Int16

    /// Storage order: the interactions primary key, then the line, so the first copy of a duplicate wins.
    @inline(__always)
    static func precedes(_ a: PendingEvent, _ b: PendingEvent) -> Bool {
        if a.user != b.user { return a.user < b.user }
        if a.micros != b.micros { return a.micros < b.micros }
        if a.item != b.item { return a.item < b.item }
        if a.event != b.event { return a.event < b.event }
        return a.line < b.line
    }

    /// Same primary key: the same event stored twice.
    @inline(__always)
    static func sameKey(_ a: PendingEvent, _ b: PendingEvent) -> Bool {
        a.user == b.user && a.micros == b.micros && a.item == b.item && a.event == b.event
    }
}
