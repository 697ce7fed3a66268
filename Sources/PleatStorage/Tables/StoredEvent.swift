/// One row of `interactions` as the history readers see it.
public struct StoredEvent: Sendable, Equatable {
    public var user: Int32, item: Int32
    /// Unix seconds (rounded down).
    public var second: Int64
    /// `event_types.id`: how the user touched the item (a view, a purchase, …).
    public var behaviour: Int16
    /// The row's value (a rating, an amount, a dwell time); NaN when it has none.
    public var value: Float

    public init(user: Int32, item: Int32, second: Int64, behaviour: Int16, value: Float) {
        (self.user, self.item, self.second, self.behaviour, self.value) = (user, item, second, behaviour, value)
    }

    /// The columns `InteractionReader.events` reads, in the order it decodes them.
    static let columns = "user_id, item_id, occurred_at, event_type, value"
}
