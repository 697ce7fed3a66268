import Foundation
import PleatHistories

/// Whether a model reads *how* each event happened (its event type: a view, a cart, a purchase) beside
/// *what* it was. A glance and a purchase of the same item say different things about what comes next;
/// an id-only model cannot tell them apart.
public struct BehaviourSettings: Sendable, Codable, Equatable {
    public enum Input: String, Sendable, Codable, CaseIterable {
        /// Items and positions only: every event is its item.
        case none
        /// A learned behaviour embedding added to each event's item embedding (HSTU's actions beside
        /// items; the simple form of MBGen's behaviour tokens): x = E[item] + P[position] + B[behaviour].
        case embedding
        /// MBGen's form: every event is two tokens, its behaviour then its item, so that the state at a
        /// behaviour token predicts the item done with that behaviour: a query ends with the behaviour it
        /// asks for (`queryEvent`, or the one a request names). Twice the positions; causal models only.
        case interleaved
    }

    public var input = Input.none
    /// Behaviour ids 1…`types` have a row: the data's `event_types` ids. 0 (the default) means every
    /// type the data has when a run starts, and the run stores that number; an event of a type added
    /// later reads as no behaviour (row 0, zeros), as does an event without one.
    public var types = 0
    /// The event type name of each behaviour id 1…`types` ("" for an id the data has no name for),
    /// filled when a run starts: scoring in another database (or after a fresh ingest numbered the
    /// types differently) maps its own ids to the model's by name. Empty: ids are used as they are.
    public var names: [String] = []
    /// The event types the encoder reads, e.g. `[buy]` for a model of purchases alone; the other events
    /// are left out of its input in training, evaluation and scoring alike (they stay in the data, and
    /// in what the seen-items rule and the targets are decided on). nil (the default): every event.
    public var inputEvents: EventNames?
    /// Buckets of each event's value (a rating, an amount, a dwell time) whose learned embedding is added
    /// to its item's, like the behaviour's: bucket 1 + ⌊4·log₂(1 + max(v, 0))⌋, at most `valueBuckets`
    /// (quarter octaves, so ratings 1-5 fall in five buckets and amounts up to 2^(buckets/4) apart).
    /// 0 (the default): values are not read; an event without one reads as none (row 0, zeros).
    public var valueBuckets = 0
    /// With `interleaved` input, the behaviour a query asks for when it names none: by default the first
    /// of `target_events`, else the data's most frequent event type, filled when a run starts.
    public var queryEvent: String?
    /// With `interleaved` input, MBGen's first step: the model also learns the next event's behaviour
    /// (`BehaviourPrediction`), and a query that names no behaviour asks for the predicted one instead of
    /// `queryEvent`. Off by default.
    public var predictBehaviour = false

    /// Rows of the behaviour table at most: logs name a handful of behaviours, and ids past this are a
    /// mistake (an identifier column given as `--event-col`), not behaviours to learn.
    public static let maxTypes = 256

    public init(input: Input = .none, types: Int = 0, names: [String] = [], inputEvents: EventNames? = nil, valueBuckets: Int = 0) {
        (self.input, self.types, self.names, self.inputEvents, self.valueBuckets) = (input, types, names, inputEvents, valueBuckets)
    }

    /// Behaviour ids the encoder embeds (1…this); 0: it reads none.
    public var embeddedTypes: Int { input == .none ? 0 : types }

    /// Encoder positions per event: 2 when behaviour and item are tokens of their own.
    public var tokensPerEvent: Int { input == .interleaved ? 2 : 1 }

    /// The model's behaviour id of `queryEvent` (0: none known, the behaviour token reads zeros).
    public var queryBehaviour: Int16 {
        queryEvent.flatMap { names.firstIndex(of: $0) }.map { Int16($0 + 1) } ?? 0
    }

    /// The encoder's id for an event's behaviour, for a model that embeds `types` behaviours: the
    /// behaviour itself, or 0 for one it has no row for.
    @inline(__always) static func encoderId(_ behaviour: Int16, types: Int) -> Int32 {
        behaviour > 0 && Int(behaviour) <= types ? Int32(behaviour) : 0
    }
}

extension BehaviourSettings {
    /// Keys absent from a stored spec take their defaults.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        input = try c.decodeIfPresent(Input.self, forKey: .input) ?? input
        types = try c.decodeIfPresent(Int.self, forKey: .types) ?? types
        names = try c.decodeIfPresent([String].self, forKey: .names) ?? names
        inputEvents = try c.decodeIfPresent(EventNames.self, forKey: .inputEvents)
        valueBuckets = try c.decodeIfPresent(Int.self, forKey: .valueBuckets) ?? valueBuckets
        queryEvent = try c.decodeIfPresent(String.self, forKey: .queryEvent)
        predictBehaviour = try c.decodeIfPresent(Bool.self, forKey: .predictBehaviour) ?? predictBehaviour
    }

    /// Most value buckets: 2^(256/4) spans any amount a log holds.
    public static let maxValueBuckets = 256

    /// The encoder's id of a value, for a model with `buckets` value buckets: 0 for none (NaN, or a
    /// model that reads no values), else its bucket.
    @inline(__always) static func valueId(_ value: Float, buckets: Int) -> Int32 {
        guard buckets > 0, !value.isNaN else { return 0 }
        let octaves = log2(1 + Double(max(value, 0)))
        return Int32(1 + min(Double(buckets - 1), (4 * octaves).rounded(.down)))
    }

    /// The model's behaviour ids of `inputEvents` (nil: every event is read); names the model has no id
    /// for read nothing.
    public var inputBehaviours: Set<Int16>? {
        inputEvents.map { events in Set(events.names.compactMap { name in names.firstIndex(of: name).map { Int16($0 + 1) } }) }
    }

    /// For each of a database's event type ids (`eventTypes`: ids by name), the model's behaviour id: the
    /// id of the same name, or 0 for a type the model does not know. Indexed by the database's id.
    public func modelIds(eventTypes: [String: Int16]) -> [Int16] {
        var map = [Int16](repeating: 0, count: Int(eventTypes.values.max() ?? 0) + 1)
        if names.isEmpty {
            for id in map.indices where id <= types { map[id] = Int16(id) }
        } else {
            for (i, name) in names.enumerated() where !name.isEmpty && i < types {
                if let id = eventTypes[name] { map[Int(id)] = Int16(i + 1) }
            }
        }
        return map
    }
}
