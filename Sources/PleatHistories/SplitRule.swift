import Foundation

/// How histories become train / validation / test examples: what a model was trained and measured on,
/// and what evaluation must repeat to compare models fairly. The training config's `min_count`, `split`
/// and `cutoff` keys.
public struct SplitRule: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case leaveOneOut = "leave-one-out", time }

    /// Items with fewer events leave the vocabulary (and the sequences).
    public var minCount = 1
    public var split = Kind.leaveOneOut
    /// For `split = time`: ISO-8601 date/time or Unix seconds; events from then on are held out.
    public var cutoff: String?
    /// The behaviours (event type names) whose events are targets; nil: every event.
    public var targetEvents: EventNames?

    public init(minCount: Int = 1, split: Kind = .leaveOneOut, cutoff: String? = nil, targetEvents: EventNames? = nil) {
        (self.minCount, self.split, self.cutoff, self.targetEvents) = (minCount, split, cutoff, targetEvents)
    }

    /// The `event_types` ids of `target_events` (nil: every event is a target), given the data's event
    /// types by name; an error names a type the data does not have.
    public func targetBehaviours(eventTypes: [String: Int16]) throws -> Set<Int16>? {
        guard let targetEvents else { return nil }
        return Set(try targetEvents.names.map { name in
            guard let id = eventTypes[name] else {
                throw SplitRuleError(description: "config key target_events: no event type '\(name)' in the data (it has: "
                                     + "\(eventTypes.keys.sorted().joined(separator: ", ")))")
            }
            return id
        })
    }

    /// The time split's cutoff in Unix seconds (nil for leave-one-out).
    public func cutoffSeconds() throws -> Int64? {
        guard split == .time, let cutoff else { return nil }
        if let seconds = Int64(cutoff) { return seconds }
        let iso = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime], [.withFullDate]] {
            iso.formatOptions = options
            if let date = iso.date(from: cutoff) { return Int64(date.timeIntervalSince1970) }
        }
        throw SplitRuleError(description: "config key cutoff: '\(cutoff)' is neither Unix seconds nor an ISO-8601 date")
    }
}

public struct SplitRuleError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

extension SequenceSplit {
    /// Splits `histories` by `rule`; `eventTypes` (ids by name) resolves its target events.
    public init(_ histories: InteractionHistories, rule: SplitRule, eventTypes: [String: Int16], keepLaterEvents: Bool = false) throws {
        self.init(histories, minCount: rule.minCount, cutoff: try rule.cutoffSeconds(),
                  targetBehaviours: try rule.targetBehaviours(eventTypes: eventTypes), keepLaterEvents: keepLaterEvents)
    }
}
