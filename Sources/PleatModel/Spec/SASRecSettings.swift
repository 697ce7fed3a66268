import PleatEncoders

/// SASRec (model-spec §2): a causal post-LN Transformer; the loss is selectable.
public struct SASRecSettings: Sendable, Codable, Equatable {
    public enum Loss: String, Sendable, Codable {
        /// Softmax cross-entropy over every item at every position (SASRec+; the strongest).
        case ce
        /// The original: BCE with one uniformly sampled negative per position.
        case bce
        /// gBCE (gSASRec, §2.6) with `negatives` uniform negatives and calibration `gbce_t`.
        case gbce
    }

    public var encoder = TransformerConfig()
    public var loss = Loss.ce
    public var negatives = 256
    public var gbceT = 0.75

    public init() {}
}
