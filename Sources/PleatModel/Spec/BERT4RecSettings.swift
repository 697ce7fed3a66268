import PleatEncoders

/// BERT4Rec (model-spec §3): a bidirectional Transformer trained on the Cloze task.
public struct BERT4RecSettings: Sendable, Codable, Equatable {
    public var encoder = TransformerConfig()
    /// Share of a sequence's items replaced by [MASK] (at least one).
    public var maskProbability = 0.2
    /// At most this many masked items per sequence.
    public var maxPredictions = 40
    /// How the last item, the one next-item prediction is about, is trained.
    public var lastItem = LastItem.separateInstance

    public enum LastItem: String, Sendable, Codable {
        /// Each user also gives a second instance with only the last item masked (the reference).
        case separateInstance = "separate-instance"
        /// The last item is always among the Cloze instance's masked items (one instance per user).
        case alwaysMasked = "always-masked"
        /// Masked only when the random draw picks it.
        case random
    }

    public init() {}
}
