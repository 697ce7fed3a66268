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

    public init(minCount: Int = 1, split: Kind = .leaveOneOut, cutoff: String? = nil) {
        (self.minCount, self.split, self.cutoff) = (minCount, split, cutoff)
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
    /// Splits `histories` by `rule`.
    public init(_ histories: InteractionHistories, rule: SplitRule) throws {
        self.init(histories, minCount: rule.minCount, cutoff: try rule.cutoffSeconds())
    }
}
