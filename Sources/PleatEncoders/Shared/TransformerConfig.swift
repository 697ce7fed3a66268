import PleatCore
import PleatTensor

/// Settings of a softmax-attention Transformer encoder (SASRec causal, BERT4Rec bidirectional). Defaults
/// follow the benchmark preset (`sasrec-full`) and BERT4Rec's ML-1M config (model-spec §3.7): post-LN
/// blocks, GELU FFN of 4·d, LayerNorm ε 1e-12; model-spec §2 lists the other published SASRec variants.
public struct TransformerConfig: Sendable, Codable, Equatable {
    /// The block the stack is made of (`PostNormBlock`, `PreNormBlock`).
    public enum Block: String, Sendable, Codable, CaseIterable {
        /// x = LN(x + Sub(x)): RecBole's SASRec, BERT4Rec.
        case postNorm = "post_ln"
        /// x = x + Sub(LN(x)), and a LayerNorm after the last block.
        case preNorm = "pre_ln"
        /// Pre-LN with sigmoid-gated residuals and a SwiGLU FFN without biases (LiGR; eSASRec's layer).
        case ligr
        /// The original SASRec's block: queries from LN x, keys and values from x, residuals from the
        /// normalised values, a ReLU FFN, and a LayerNorm after the last block (`SASRecBlock`).
        case sasrec
    }

    /// Which end of the sequence the learned position embeddings count from (`InputEmbedding`).
    public enum Positions: String, Sendable, Codable, CaseIterable {
        /// Position 0 is the oldest kept event.
        case fromOldest = "from_oldest"
        /// Position 0 is the newest event, the one the next item follows (the original SASRec's and
        /// BERT4Rec's left-padded windows): every prediction that scoring makes reads the same row.
        case fromNewest = "from_newest"
    }

    /// How the weight matrices and embedding tables start; vectors (biases, LayerNorm) start at 0 and 1.
    public enum Initialization: String, Sendable, Codable, CaseIterable {
        /// Normal(0, 0.02²) for every matrix and table (BERT, RecBole).
        case normal
        /// Normal(0, 2 / (fan_in + fan_out)) (Glorot): the original SASRec and its PyTorch ports,
        /// RecTools among them. Its spread follows the shape, so a 64-wide attention or FFN matrix starts
        /// four to six times wider than under `normal` and a 10^4-row item table half as wide.
        case xavierNormal = "xavier_normal"
    }

    /// Real items; id 0 is padding, so the item table has `items + 1` rows (BERT4Rec adds [MASK]).
    public var items = 3_500
    public var dimension = 64
    public var heads = 2
    public var blocks = 2
    public var block = Block.postNorm
    public var positions = Positions.fromOldest
    public var initialization = Initialization.normal
    /// Causal `sasrec` blocks only: each query also attends to the padding of a `maxLength` window, as
    /// the original SASRec's left-padded batches without a key padding mask do: (maxLength − L) zero rows
    /// whose keys and values are the K and V biases (`SoftmaxAttention.Sink`). Off: only real events.
    public var attendPadding = false
    public var ffnMultiplier = 4
    public var dropout: Float = 0.2
    public var maxLength = 200
    public var layerNormEpsilon: Float = 1e-12

    public init() {}
}

extension TransformerConfig {
    /// Keys absent from a stored spec (one written before they existed) take the behaviour it was
    /// trained with: a spec without `block` is post-LN, one without `positions` counts from the oldest event,
    /// one without `initialization` started from `normal` (a trained model no longer depends on it), one
    /// without `attend_padding` attended to its events only.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        items = try c.decodeIfPresent(Int.self, forKey: .items) ?? items
        dimension = try c.decodeIfPresent(Int.self, forKey: .dimension) ?? dimension
        heads = try c.decodeIfPresent(Int.self, forKey: .heads) ?? heads
        blocks = try c.decodeIfPresent(Int.self, forKey: .blocks) ?? blocks
        block = try c.decodeIfPresent(Block.self, forKey: .block) ?? .postNorm
        positions = try c.decodeIfPresent(Positions.self, forKey: .positions) ?? .fromOldest
        initialization = try c.decodeIfPresent(Initialization.self, forKey: .initialization) ?? .normal
        attendPadding = try c.decodeIfPresent(Bool.self, forKey: .attendPadding) ?? false
        ffnMultiplier = try c.decodeIfPresent(Int.self, forKey: .ffnMultiplier) ?? ffnMultiplier
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? dropout
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength) ?? maxLength
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? layerNormEpsilon
    }
}

extension TransformerConfig {
    /// Draws every matrix and table among `parameters` by `initialization`, in order, from `seed`.
    func initialize(_ parameters: ArraySlice<Parameter>, seed: UInt64) {
        var rng = RandomSource(seed: seed)
        for p in parameters where p.shape.count == 2 {
            switch initialization {
            case .normal: Initializer.normal(p.value, std: 0.02, rng: &rng)
            case .xavierNormal: Initializer.xavierNormal(p.value, rng: &rng)
            }
        }
    }
}
