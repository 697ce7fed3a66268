import Foundation
import PleatModel

/// How a scheduled job trains each night (`training:` in a job file): a warm start from the serving model
/// on the day's data by default, and a full retrain on the whole history every `full_retrain_days`, or
/// at once when a warm start's validation NDCG@10 falls more than `max_valid_drop` below the last full
/// retrain's (warm starts drift; a full retrain resets them).
public struct RetrainRule: Sendable, Equatable {
    /// Warm-start from the serving model (or the last full retrain) when the rule allows; false: always
    /// a full retrain.
    public var warmStart = true
    /// A full retrain when the last one is at least this many days old.
    public var fullRetrainDays = 7.0
    /// A full retrain when a warm start's validation NDCG@10 is lower than the last full retrain's by more
    /// than this.
    public var maxValidDrop = 0.01

    public init() {}

    /// What one night does for one model kind, and why (recorded with the run).
    public struct Decision: Sendable, Codable, Equatable {
        public var kind: String
        /// The warm start's parent; nil: a full retrain.
        public var parent: String?
        public var reason: String
        public var isWarmStart: Bool { parent != nil }
    }

    /// Before training: a warm start from the serving model when it is of this kind (else from the last
    /// full retrain), unless warm starts are off, no full retrain exists, or the last one is too old.
    /// `registered`: the registry, newest first.
    public func plan(kind: ModelKind, registered: [ModelRecord], serving: String?, now: Date) -> Decision {
        func full(_ reason: String) -> Decision { Decision(kind: kind.rawValue, parent: nil, reason: reason) }
        guard warmStart else { return full("full retrain: warm starts are off (training.warm_start: false)") }
        guard let lastFull = Self.lastFullRetrain(kind, in: registered) else {
            return full("full retrain: no \(kind.rawValue) model has been trained from scratch yet")
        }
        let age = lastFull.createdAt.flatMap { ISO8601DateFormatter().date(from: $0) }.map { now.timeIntervalSince($0) / 86_400 } ?? .infinity
        guard age < fullRetrainDays else {
            return full(String(format: "full retrain: the last one (%@) is %.1f days old, full_retrain_days is %g", lastFull.id, age, fullRetrainDays))
        }
        let parent = registered.first { $0.id == serving && $0.kind == kind } ?? lastFull
        return Decision(kind: kind.rawValue, parent: parent.id,
                        reason: "warm start from \(parent.id)\(parent.id == serving ? " (serving)" : " (the last full retrain)")")
    }

    /// The newest model of `kind` trained from random weights (`registered` is newest first).
    static func lastFullRetrain(_ kind: ModelKind, in registered: [ModelRecord]) -> ModelRecord? {
        registered.first { $0.kind == kind && $0.parentId == nil }
    }

    /// After a warm start: why a full retrain must follow at once (nil: the warm start stands).
    public func drift(_ warm: ModelRecord, registered: [ModelRecord]) -> String? {
        guard let lastFull = Self.lastFullRetrain(warm.kind, in: registered) else { return nil }
        let warmNDCG = warm.valid.ndcg(at: 10) ?? 0, fullNDCG = lastFull.valid.ndcg(at: 10) ?? 0
        guard warmNDCG < fullNDCG - maxValidDrop else { return nil }
        return String(format: "full retrain: the warm start %@ has validation NDCG@10 %.4f, more than max_valid_drop %g below the last full retrain %@ (%.4f)",
                      warm.id, warmNDCG, maxValidDrop, lastFull.id, fullNDCG)
    }
}
