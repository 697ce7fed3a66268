/// Settings of a SASRec encoder. Defaults follow the benchmark preset (`sasrec-full`), which is
/// RecBole's post-LN Transformer block; model-spec §2 lists the other published variants.
public struct SASRecConfig: Sendable, Codable, Equatable {
    /// Real items; id 0 is padding, so the item table has `items + 1` rows.
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
