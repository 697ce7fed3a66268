import PleatEncoders

/// BERT4Rec (model-spec §3): a bidirectional Transformer trained on the Cloze task.
public struct BERT4RecSettings: Sendable, Codable, Equatable {
    /// The encoder; positions count from the newest event, so the [MASK] that scoring appends is always
    /// position 0, where a training mask also has only older events to read (docs/benchmarks/movielens-100k.md).
    public var encoder: TransformerConfig = {
        var config = TransformerConfig()
        config.positions = .fromNewest
        return config
    }()
    /// Share of a sequence's items replaced by [MASK] (at least one).
    public var maskProbability = 0.2
    /// At most this many masked items per sequence.
    public var maxPredictions = 40
    /// How next-item prediction is trained: by default an instance cut at a random event of the window
    /// (on MovieLens-100K, with `from_newest` positions, test NDCG@10 0.0621 and 0.0681 for seeds 42 and 1
    /// against 0.0461 and 0.0413 for the separate last-item instance, chosen on validation: 0.0938 and
    /// 0.1050 against 0.0694).
    public var lastItem = LastItem.randomPrefix
    /// Dropout over the whole item table, one mask per step, as `sasrec.item_dropout` (the input lookup
    /// and the Cloze scores read the same dropped table); 0 turns it off.
    public var itemDropout: Float = 0

    public enum LastItem: String, Sendable, Codable {
        /// Each user also gives a second instance with only the last item masked (the reference).
        case separateInstance = "separate-instance"
        /// The last item is always among the Cloze instance's masked items (one instance per user).
        case alwaysMasked = "always-masked"
        /// Masked only when the random draw picks it.
        case random
        /// Each user also gives a second instance: the sequence cut at a random event of its training
        /// window, only that event masked. Next-item prediction at every position over the epochs, as
        /// SASRec trains, instead of the same last item in every epoch.
        case randomPrefix = "random-prefix"

        /// Whether each user gives a second, next-item instance.
        public var addsInstance: Bool { self == .separateInstance || self == .randomPrefix }
    }

    public init() {}
}

extension BERT4RecSettings {
    /// Keys absent from a stored spec (one written before they existed) take their defaults.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        encoder = try c.decodeIfPresent(TransformerConfig.self, forKey: .encoder) ?? encoder
        maskProbability = try c.decodeIfPresent(Double.self, forKey: .maskProbability) ?? maskProbability
        maxPredictions = try c.decodeIfPresent(Int.self, forKey: .maxPredictions) ?? maxPredictions
        lastItem = try c.decodeIfPresent(LastItem.self, forKey: .lastItem) ?? lastItem
        itemDropout = try c.decodeIfPresent(Float.self, forKey: .itemDropout) ?? itemDropout
    }
}
