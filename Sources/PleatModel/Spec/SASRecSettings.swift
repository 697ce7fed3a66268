import PleatEncoders

/// SASRec (model-spec §2): a causal Transformer over the history; the loss is selectable.
public struct SASRecSettings: Sendable, Codable, Equatable {
    public enum Loss: String, Sendable, Codable, CaseIterable {
        /// Softmax cross-entropy over every item at every position (SASRec+). Its cost grows with the
        /// catalogue: a position costs 2·d·items multiply-adds, forward and back.
        case ce
        /// The original: BCE with one uniformly sampled negative per position.
        case bce
        /// gBCE (gSASRec, §2.6) with `negatives` uniform negatives and calibration `gbce_t`.
        case gbce
        /// Softmax over the positive and `negatives` sampled items (`sampling`), shared by the batch so
        /// that their logits are one matrix product; the loss behind the best published results on the
        /// Amazon sets, and what keeps catalogues of 10^5-10^6 items affordable.
        case sampledSoftmax = "sampled_softmax"
        /// `ce` for catalogues of up to `fullSoftmaxItemLimit` items, `sampled_softmax` above: chosen when a
        /// run starts, and stored as the loss it chose.
        case auto

        /// The loss `auto` stands for with `items` items; any other loss itself.
        public func resolved(items: Int) -> Loss {
            guard self == .auto else { return self }
            return items <= SASRecSettings.fullSoftmaxItemLimit ? .ce : .sampledSoftmax
        }
    }

    /// Up to this many items the full softmax is affordable (a position costs 2·d·items multiply-adds
    /// forward and twice that back: 2.6 M at d 64 and 20 k items) and `auto` picks it.
    public static let fullSoftmaxItemLimit = 20_000

    /// Where the sampled softmax's negatives come from.
    public enum Sampling: String, Sendable, Codable, CaseIterable {
        /// Uniform over the catalogue (the published setting; popular items are rarely contrasted).
        case uniform
        /// The labels of randomly chosen positions of the same batch: items in proportion to how often
        /// they are targets, so popular items are contrasted more; needs `log_q_correction`.
        case inBatch = "in_batch"
        /// Half in-batch, half uniform (mixed negative sampling, Yang et al. 2020).
        case mixed
        /// Uniform, but `negatives` drawn for every position on its own rather than shared by the batch,
        /// as RecTools' eSASRec benchmark (the published Amazon results) samples: more distinct negatives
        /// per step, at the cost of gathered dot products instead of one matrix product.
        case uniformPerPosition = "uniform_per_position"
    }

    public var encoder = TransformerConfig()
    public var loss = Loss.auto
    /// Negatives per step: per position for `bce`/`gbce` (one for `bce`), shared by the batch for
    /// `sampled_softmax` (per position with `sampling = uniform_per_position`).
    public var negatives = 256
    public var gbceT = 0.75
    /// `sampled_softmax` only. Per position by default: on Amazon Sports (18 k items) it reached a best
    /// validation NDCG@10 of 0.0324 against 0.0299 with the same number shared by the batch.
    public var sampling = Sampling.uniformPerPosition
    /// Subtract log(expected count among the negatives) from every logit (Yi et al. 2019), so that a
    /// non-uniform sampler still estimates the full softmax; a constant (no effect) for `uniform`.
    public var logQCorrection = true
    /// Logits are ⟨h, e⟩ / `temperature` (`sampled_softmax` only).
    public var temperature: Float = 1
    /// Dropout over the whole item table, one mask per step read by the input lookup and by the loss's
    /// scores alike (RecTools' item net, behind the published Amazon figures); 0 turns it off. It costs
    /// two passes over the table per step, so it suits small catalogues.
    public var itemDropout: Float = 0
    /// The repeat head (`RepeatHead`): the next item is one of the user's own items (those in the
    /// window) with a learned probability, read from the encoder's state and the history, and then
    /// chosen by its recency and frequency; otherwise a new one, from the usual softmax over the rest.
    /// For logs where people come back to items, served and evaluated with `seen = include` (under
    /// `exclude` the ranking is the catalogue part's); with `ce` or `sampled_softmax` per position. Under
    /// `include`, validation also sets how far own items are moved against the catalogue (`RepeatShift`).
    public var `repeat` = false
    /// With `repeat`: which positions train the catalogue part (`RepeatCatalogue`).
    public var repeatCatalogue = RepeatCatalogue.separate

    public init() {}
}

extension SASRecSettings {
    /// Keys absent from a stored spec (one written before they existed) take their defaults.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        encoder = try c.decodeIfPresent(TransformerConfig.self, forKey: .encoder) ?? encoder
        loss = try c.decodeIfPresent(Loss.self, forKey: .loss) ?? loss
        negatives = try c.decodeIfPresent(Int.self, forKey: .negatives) ?? negatives
        gbceT = try c.decodeIfPresent(Double.self, forKey: .gbceT) ?? gbceT
        // Specs from before the key: sampled negatives were shared by the batch.
        sampling = try c.decodeIfPresent(Sampling.self, forKey: .sampling) ?? .uniform
        logQCorrection = try c.decodeIfPresent(Bool.self, forKey: .logQCorrection) ?? logQCorrection
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature) ?? temperature
        itemDropout = try c.decodeIfPresent(Float.self, forKey: .itemDropout) ?? itemDropout
        `repeat` = try c.decodeIfPresent(Bool.self, forKey: .repeat) ?? `repeat`
        // Specs from before the key: the catalogue part trained on new targets.
        repeatCatalogue = try c.decodeIfPresent(RepeatCatalogue.self, forKey: .repeatCatalogue) ?? .newTargets
    }
}
