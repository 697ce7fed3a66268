import PleatEncoders

/// HSTU (model-spec §1), the research variant, trained with sampled softmax.
public struct HSTUSettings: Sendable, Codable, Equatable {
    public var encoder = HSTUConfig()
    /// Uniform negatives per step, shared by every position of the batch. Departure from the spec (128
    /// drawn per position): sharing turns the loss into one matrix product, and a shared set needs to be
    /// larger to contrast as much (on ML-100K, 128 shared reached valid NDCG@10 0.07, 1,024 reached 0.11).
    public var negatives = 1_024
    public var temperature: Float = 0.05

    public init() {}
}
