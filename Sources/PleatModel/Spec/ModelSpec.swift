/// What a model is, apart from its weights and vocabulary: its kind, the window it reads, its encoder
/// and objective settings, and how it folds long histories. The model-side part of a training config;
/// an artifact stores it (`spec.json`) so that scoring rebuilds the network without the training config.
public struct ModelSpec: Sendable, Codable, Equatable {
    public var kind: ModelKind
    /// The most recent `max_length` events are the window the encoder reads.
    public var maxLength: Int
    /// The settings of each kind; only `kind`'s are used.
    public var sasrec: SASRecSettings
    public var bert4rec: BERT4RecSettings
    public var hstu: HSTUSettings
    public var fold: FoldSettings
    /// Whether the encoder reads each event's behaviour (`BehaviourSettings`).
    public var behaviour: BehaviourSettings

    public init(kind: ModelKind, maxLength: Int = 200, sasrec: SASRecSettings = .init(), bert4rec: BERT4RecSettings = .init(),
                hstu: HSTUSettings = .init(), fold: FoldSettings = .init(), behaviour: BehaviourSettings = .init()) {
        (self.kind, self.maxLength, self.sasrec, self.bert4rec, self.hstu, self.fold) = (kind, maxLength, sasrec, bert4rec, hstu, fold)
        self.behaviour = behaviour
    }

    /// The encoder's width (the size of an item embedding).
    public var dimension: Int {
        switch kind {
        case .sasrec: sasrec.encoder.dimension
        case .bert4rec: bert4rec.encoder.dimension
        case .hstu: hstu.encoder.dimension
        }
    }
}

extension ModelSpec {
    /// Keys absent from a stored spec (one written before they existed) take the behaviour it was
    /// trained with: a spec without `behaviour` read items only.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kind: try c.decode(ModelKind.self, forKey: .kind), maxLength: try c.decode(Int.self, forKey: .maxLength),
                  sasrec: try c.decode(SASRecSettings.self, forKey: .sasrec), bert4rec: try c.decode(BERT4RecSettings.self, forKey: .bert4rec),
                  hstu: try c.decode(HSTUSettings.self, forKey: .hstu), fold: try c.decode(FoldSettings.self, forKey: .fold),
                  behaviour: try c.decodeIfPresent(BehaviourSettings.self, forKey: .behaviour) ?? BehaviourSettings())
    }
}
