/// Settings of a softmax-attention Transformer encoder (SASRec causal, BERT4Rec bidirectional). Defaults
/// follow the benchmark preset (`sasrec-full`) and BERT4Rec's ML-1M config (model-spec §3.7): post-LN
/// blocks, GELU FFN of 4·d, LayerNorm ε 1e-12; model-spec §2 lists the other published SASRec variants.
public struct TransformerConfig: Sendable, Codable, Equatable {
    /// Real items; id 0 is padding, so the item table has `items + 1` rows (BERT4Rec adds [MASK]).
    public var items = 3_500
    public var dimension = 64
    public var heads = 2
    public var blocks = 2
    public var ffnMultiplier = 4
    public var dropout: Float = 0.2
    public var maxLength = 200
    public var layerNormEpsilon: Float = 1e-12

    public init() {}
}
