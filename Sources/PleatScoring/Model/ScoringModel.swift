import Foundation
import PleatCore
import PleatHistories
import PleatMetrics
import PleatModel
import PleatStorage
import PleatTensor

/// A registered model loaded for inference from its artifact (verified against the registry's SHA-256):
/// the network with the trained weights, sized for `batchSize` queries per call (1 for live scoring,
/// where a bigger batch would cost its full width), and the map between its item indices and this
/// database's item ids, made through external ids, so an artifact trained against another database
/// (`pleat models import`) scores the same. Not thread-safe: the network reuses its buffers.
public final class ScoringModel {
    public let record: ModelRecord
    public let artifact: ModelArtifact
    let model: any NextItemModel
    /// This database's item ids → model indices.
    let itemIndex: ItemVocabulary
    /// `ItemScoring.topK`'s blocks of scores.
    private let blockScores: Tensor
    /// This database's ids of the model's target behaviours (nil: every event is a target): which of a
    /// history's events make its item "already seen" (`SequenceSplit.seenItems`).
    let targetBehaviours: Set<Int16>?
    /// The model's behaviour id of each of this database's event type ids (`BehaviourSettings.modelIds`).
    let behaviourIndex: [Int16]
    /// This database's event type ids by name: the behaviours a request may ask for.
    let eventTypes: [String: Int16]

    public var id: String { record.id }
    public var batchSize: Int { model.batchSize }
    public var items: Int { model.items }
    /// The network as a ranker over its own item indices (for offline evaluation).
    /// Histories give this database's behaviour ids, which it maps to the model's when they differ.
    public var ranker: any ItemRanker {
        let behaviour = artifact.spec.behaviour
        let readsNone = behaviour.embeddedTypes == 0 && behaviour.inputEvents == nil
        return readsNone || BehaviourMappedRanker.isIdentity(behaviourIndex) ? model : BlockScoredBehaviourMappedRanker(model: model, index: behaviourIndex)
    }
    /// This database's id of each model index (0: padding, or an item this database does not have).
    public var databaseIds: [Int32] { itemIndex.databaseIds }

    public static func load(_ record: ModelRecord, db: PostgresConnection, batchSize: Int) throws -> ScoringModel {
        let artifact: ModelArtifact
        do { artifact = try ModelArtifact.load(from: URL(fileURLWithPath: record.artifactPath), expectedWeightsSHA256: record.artifactSHA256) } catch {
            throw ScoringError("model \(record.id): \(error)")
        }
        let databaseId = try ItemTable(db).ids(of: Array(artifact.vocabulary.externalIds.dropFirst()))
        let ids = artifact.vocabulary.externalIds.enumerated().map { i, external in i == 0 ? 0 : databaseId[external] ?? 0 }
        let eventTypes = try EventTypeTable(db).ids(), targetBehaviours: Set<Int16>?
        do {
            targetBehaviours = try SplitRule(targetEvents: try record.targetEvents).targetBehaviours(eventTypes: eventTypes)
        } catch let error as SplitRuleError { throw ScoringError("model \(record.id): \(error)") }
        return ScoringModel(record: record, artifact: artifact, model: try artifact.makeModel(batchSize: batchSize), databaseIds: ids,
                            targetBehaviours: targetBehaviours, behaviourIndex: artifact.spec.behaviour.modelIds(eventTypes: eventTypes),
                            eventTypes: eventTypes)
    }

    init(record: ModelRecord, artifact: ModelArtifact, model: any NextItemModel, databaseIds: [Int32], targetBehaviours: Set<Int16>? = nil,
         behaviourIndex: [Int16] = [], eventTypes: [String: Int16] = [:]) {
        (self.record, self.artifact, self.model, self.targetBehaviours) = (record, artifact, model, targetBehaviours)
        (self.behaviourIndex, self.eventTypes) = (behaviourIndex, eventTypes)
        itemIndex = ItemVocabulary(databaseIds: databaseIds)
        blockScores = Tensor([model.batchSize, ItemScoring.blockColumns])
    }

    /// A history in model indices: events of items the model does not know (newer than it) are left out.
    public func modelHistory(items: ArraySlice<Int32>, times: ArraySlice<Int64>, behaviours: ArraySlice<Int16>,
                             values: ArraySlice<Float>) -> ModelHistory {
        precondition(items.indices == times.indices && items.indices == behaviours.indices && items.indices == values.indices)
        var kept = ModelHistory()
        for i in items.indices {
            guard let index = itemIndex.modelIndex(of: items[i]) else { continue }
            kept.items.append(index); kept.times.append(times[i]); kept.behaviours.append(behaviours[i]); kept.values.append(values[i])
        }
        return kept
    }

    /// Each history's top k items (model indices and scores, best first), asked right after its last
    /// event, under the seen-items rule `seen` (as `Evaluator.ranked` lists them). At most `batchSize` histories.
    /// The catalogue is scored in blocks (`ItemScoring.topK`): no row of every item's score is held.
    ///
    /// `event` asks for one behaviour ("buy": what will this user buy next?; `checkEvent` first): "seen"
    /// then means done with that behaviour, and a model with interleaved behaviour tokens is asked for
    /// it (other models rank as for their own question). nil: the model's own question, as evaluated.
    public func topK(_ histories: [ModelHistory], k: Int, seen: SeenItems, event: String? = nil) -> [(items: [Int32], scores: [Float])] {
        precondition(histories.count <= batchSize)
        let queries = histories.map { h in
            let behaviours = BehaviourMappedRanker.modelBehaviours(h.behaviours, index: behaviourIndex)
            return ScoringQuery(history: EventSequence(items: h.items[...], times: h.times[...], behaviours: behaviours[...], values: h.values[...]),
                                time: h.times.last ?? 0, event: event)
        }
        let seenBehaviours = event.map { name in Set(eventTypes[name].map { [$0] } ?? []) } ?? targetBehaviours
        let excluded = histories.map {
            seen.excluded(from: SequenceSplit.seenItems($0.items, behaviours: $0.behaviours, targetBehaviours: seenBehaviours))
        }
        return model.itemScoring(for: queries).topK(k: k, excluding: excluded,
                                                    scratch: blockScores)
    }

    /// Throws unless this database has the event type `name`, so that a request for a behaviour nobody
    /// does is an error rather than a list of the model's own question.
    public func checkEvent(_ name: String) throws {
        guard eventTypes[name] == nil else { return }
        throw UnknownEventType(name: name, known: eventTypes.keys.sorted())
    }

    /// External ids of model indices.
    public func externalIds(_ items: [Int32]) -> [String] { items.map { artifact.vocabulary.externalIds[Int($0)] } }

    /// A list as the cache keeps and serves it: this model's top items (model indices, best first) under
    /// their external ids, computed from a history whose newest event is `historyUntil` (Unix seconds).
    public func rankedList(user: String, event: String? = nil, _ top: (items: [Int32], scores: [Float]), historyUntil: Int64,
                           computedAt: Double = Date().timeIntervalSince1970) -> RankedList {
        RankedList(user: user, event: event ?? "", items: externalIds(top.items), scores: top.scores, historyUntil: historyUntil,
                   computedAt: computedAt)
    }

    /// The model's items by how often they occur in its training data, most frequent first: the fallback
    /// for users the model cannot score. From the artifact: no database needed.
    public func popularItems(k: Int) -> (items: [Int32], scores: [Float]) {
        let items = artifact.vocabulary.popular(limit: k)
        return (items, items.map { Float(artifact.vocabulary.counts?[Int($0)] ?? 0) })
    }
}
