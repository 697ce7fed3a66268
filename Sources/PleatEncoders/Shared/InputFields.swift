/// What an encoder's input reads besides item ids and positions, one id per input position (batch ×
/// length, like the ids): the event's behaviour (1…the encoder's behaviour types) and its value bucket
/// (1…its value buckets); 0 for none. nil: every position's is 0, the same as an encoder built without
/// those embeddings.
public struct InputFields: Sendable {
    public var behaviours: [Int32]?
    public var values: [Int32]?

    public init(behaviours: [Int32]? = nil, values: [Int32]? = nil) {
        (self.behaviours, self.values) = (behaviours, values)
    }
}
