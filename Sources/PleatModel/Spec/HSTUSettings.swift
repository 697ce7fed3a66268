import PleatEncoders

/// HSTU (model-spec §1), the research variant, trained with sampled softmax.
public struct HSTUSettings: Sendable, Codable, Equatable {
    public var encoder = HSTUConfig()
    /// Uniform negatives per step, shared by every position of the batch. Departure from the spec (128
    /// drawn per position): sharing turns the loss into one matrix product, and a shared set needs to be
    /// larger to contrast as much (on ML-100K, 128 shared reached valid NDCG@10 0.07, 1,024 reached 0.11).
    public var negatives = 1_024
    public var temperature: Float = 0.05
    /// The repeat head (`RepeatHead`, as `SASRecSettings.repeat`): a learned mixture of the user's own
    /// items, ordered by recency and frequency, and the catalogue's softmax over the rest. For `seen = include`.
    public var `repeat` = false
    /// With `repeat`: which positions train the catalogue part (`RepeatCatalogue`).
    public var repeatCatalogue = RepeatCatalogue.separate

    public init() {}
}

extension HSTUSettings {
    /// Keys absent from a stored spec (one written before they existed) take their defaults.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        encoder = try c.decodeIfPresent(HSTUConfig.self, forKey: .encoder) ?? encoder
        negatives = try c.decodeIfPresent(Int.self, forKey: .negatives) ?? negatives
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature) ?? temperature
        `repeat` = try c.decodeIfPresent(Bool.self, forKey: .repeat) ?? `repeat`
        // Specs from before the key: the catalogue part trained on new targets.
        repeatCatalogue = try c.decodeIfPresent(RepeatCatalogue.self, forKey: .repeatCatalogue) ?? .newTargets
    }
}
