import PleatTensor

/// Settings of an HSTU encoder. The defaults are the research HSTU of model-spec §1 (no LayerNorm
/// affine parameters, no projection bias, α = 1, shared position + time bias, E·√d input, dropout on the
/// gated output, L2-normalised outputs); `benchmark` is the simplified HSTU of shared/bench/torch_step.py.
public struct HSTUConfig: Sendable, Codable, Equatable {
    public enum OutputDropout: String, Sendable, Codable {
        /// Y = X + W_o Drop(G) (the research model).
        case beforeProjection
        /// Y = X + Drop(W_o G) (the benchmark model).
        case afterProjection
    }

    public enum OutputNorm: String, Sendable, Codable { case l2, layerNorm }

    public var items = 3_500
    public var dimension = 64
    public var heads = 2
    public var blocks = 2
    public var maxLength = 200
    public var dropout: Float = 0.2
    public var layerNormEpsilon: Float = 1e-6
    public var layerNormAffine = false
    public var projectionBias = false
    public var attention = PointwiseAttention.Options()
    /// Input = E·√d + P without a LayerNorm (research), or LN(E + P) (benchmark).
    public var inputLayerNorm = false
    public var outputDropout = OutputDropout.beforeProjection
    public var outputNorm = OutputNorm.l2

    public init() {}

    /// The configuration of the `hstu` preset in shared/bench.
    public static var benchmark: HSTUConfig {
        var c = HSTUConfig()
        c.layerNormEpsilon = 1e-5
        c.layerNormAffine = true
        c.projectionBias = true
        c.attention.scale = 1 / Float(c.dimension / c.heads).squareRoot()
        c.attention.positionBias = .perHead
        c.attention.timeBias = false
        c.attention.dropout = c.dropout
        c.inputLayerNorm = true
        c.outputDropout = .afterProjection
        c.outputNorm = .layerNorm
        return c
    }
}
