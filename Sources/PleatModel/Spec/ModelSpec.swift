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

    public init(kind: ModelKind, maxLength: Int = 200, sasrec: SASRecSettings = .init(), bert4rec: BERT4RecSettings = .init(),
                hstu: HSTUSettings = .init(), fold: FoldSettings = .init()) {
        (self.kind, self.maxLength, self.sasrec, self.bert4rec, self.hstu, self.fold) = (kind, maxLength, sasrec, bert4rec, hstu, fold)
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
