import PleatCore
import PleatEncoders
import PleatTensor

/// A user's events as a model reads them (model indices and Unix seconds, oldest first).
public struct EventSequence: Sendable {
    public let items: ArraySlice<Int32>
    public let times: ArraySlice<Int64>
    /// Which events are targets, the ones training predicts (`target_events`); nil: every event.
    public let targets: ArraySlice<Bool>?
    /// Each event's behaviour (its `event_types` id; 0: none), read by models with a behaviour input;
    /// nil: no event has one.
    public let behaviours: ArraySlice<Int16>?
    /// Each event's value (NaN: none), read by models with value buckets; nil: no event has one.
    public let values: ArraySlice<Float>?

    public init(items: ArraySlice<Int32>, times: ArraySlice<Int64>, targets: ArraySlice<Bool>? = nil, behaviours: ArraySlice<Int16>? = nil,
                values: ArraySlice<Float>? = nil) {
        precondition(items.indices == times.indices && (targets?.indices ?? items.indices) == items.indices
                     && (behaviours?.indices ?? items.indices) == items.indices && (values?.indices ?? items.indices) == items.indices)
        (self.items, self.times, self.targets, self.behaviours, self.values) = (items, times, targets, behaviours, values)
    }

    /// Whether the event at index i (of `items`' indices) is a target.
    @inline(__always) public func isTarget(_ i: Int) -> Bool { targets?[i] ?? true }

    /// The events whose behaviour is in `kept` (`BehaviourSettings.inputEvents`), or these events when
    /// `kept` is nil.
    public func keeping(_ kept: Set<Int16>?) -> EventSequence {
        guard let kept else { return self }
        let behaviours = self.behaviours ?? ArraySlice(repeating: 0, count: items.count)
        let indices = behaviours.indices.filter { kept.contains(behaviours[$0]) }
        return EventSequence(items: ArraySlice(indices.map { items[$0] }), times: ArraySlice(indices.map { times[$0] }),
                             targets: targets.map { t in ArraySlice(indices.map { t[$0] }) }, behaviours: ArraySlice(indices.map { behaviours[$0] }),
                             values: values.map { v in ArraySlice(indices.map { v[$0] }) })
    }

    /// The events in `range` (of `items`' indices).
    public subscript(range: Range<Int>) -> EventSequence {
        EventSequence(items: items[range], times: times[range], targets: targets?[range], behaviours: behaviours?[range], values: values?[range])
    }
}

/// A history to recommend for, and when the recommendation is asked for (HSTU's time bias reads the gap
/// between that moment and each past event); with interleaved behaviour tokens, also which behaviour it
/// asks for (an event type name: "what will this user buy?"), nil for the model's `queryEvent`.
public struct ScoringQuery: Sendable {
    public let history: EventSequence
    public let time: Int64
    public let event: String?

    public init(history: EventSequence, time: Int64, event: String? = nil) {
        (self.history, self.time, self.event) = (history, time, event)
    }
}

/// Anything that scores every item for a history: trained models and baselines alike, so that one
/// evaluation routine ranks them all.
public protocol ItemRanker: AnyObject {
    /// Queries per `scores` call.
    var batchSize: Int { get }
    /// Items in the vocabulary; scores have `items + 1` columns (column 0 is padding).
    var items: Int { get }
    /// Every item's score for each query (rows = queries.count ≤ batchSize, columns = items + 1).
    func scores(_ queries: [ScoringQuery], into scores: Tensor)
}

/// A ranker whose scores are dot products it can hand out by blocks of the catalogue (`ItemScoring`):
/// scoring's top-K and evaluation's ranks then never hold a full row of scores.
public protocol BlockScoredRanker: ItemRanker {
    /// Encodes up to `batchSize` queries for the dot-product scoring rule (every score, or each query's
    /// top k or target's rank without a full row of scores).
    func itemScoring(for queries: [ScoringQuery]) -> ItemScoring
}

/// An encoder together with its training objective and its scoring rule: what the trainer fits and what
/// evaluation and scoring rank with.
public protocol NextItemModel: BlockScoredRanker {
    var kind: ModelKind { get }
    var store: ParameterStore { get }
    /// Forward, loss and backward over up to `batchSize` training sequences; gradients are added to the
    /// parameters' (zeroed) gradients. Returns the batch's mean loss.
    func trainStep(_ sequences: [EventSequence], rng: inout RandomSource) -> Double
    /// The terms (labelled positions) the last `trainStep`'s mean loss is over: data-parallel training
    /// weights each rank's gradient by them, so that the ranks' sum is the mean over the global batch.
    var lossTerms: Int { get }
    /// The repeat head's ranking shift, for models with the head (`repeat = true`).
    var repeatShift: RepeatShift? { get }
}

extension NextItemModel {
    public var repeatShift: RepeatShift? { nil }

    public func scores(_ queries: [ScoringQuery], into scores: Tensor) {
        itemScoring(for: queries).score(into: scores)
    }
}

extension ModelSpec {
    /// A freshly initialised model of this spec for `items` items, taking `batchSize` sequences per call,
    /// its weights drawn from `seed` (`foldKeys`: the keys of a folded model, when `fold.key` is set).
    public func makeModel(batchSize: Int, seed: UInt64, items: Int, foldKeys: FoldKeys? = nil) -> any NextItemModel {
        switch kind {
        case .sasrec: return SASRecModel(spec: self, batchSize: batchSize, seed: seed, items: items, foldKeys: foldKeys)
        case .bert4rec: return BERT4RecModel(spec: self, batchSize: batchSize, seed: seed, items: items, foldKeys: foldKeys)
        case .hstu: return HSTUModel(spec: self, batchSize: batchSize, seed: seed, items: items, foldKeys: foldKeys)
        }
    }
}
