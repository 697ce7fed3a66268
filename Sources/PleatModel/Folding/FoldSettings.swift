/// Folding of long histories (model-spec §4.3): events older than the recent window (`max_length`) are
/// grouped by `key` into at most `groups` folds of their `group_length` most recent events.
public struct FoldSettings: Sendable, Codable, Equatable {
    public enum Key: String, Sendable, Codable {
        /// No folding: the model sees the last `max_length` events only.
        case none
        /// The item's category from item metadata (the first genre when there is no category).
        case category
        /// Balanced k-means clusters of a trained model's item embeddings (`cluster_model`).
        case cluster
        /// Time windows of `time_window_days` before the window's first event (a baseline).
        case time
    }

    public var key = Key.none
    /// G: fold tokens per user (the most recently active folds).
    public var groups = 64
    /// C: events kept per fold (its most recent ones).
    public var groupLength = 128
    /// Layers of the shared fold encoder.
    public var foldBlocks = 1
    public var timeWindowDays = 30.0
    /// Clusters for `key = cluster`, and the registered model whose item embeddings they come from.
    public var clusters = 256
    public var clusterModel = ""
    /// In training, a user's window ends at a random event among the last `window_end_spread` of their
    /// history (so fold contents vary); evaluation always ends it at the last event.
    public var windowEndSpread = 0.2
    /// Training windows drawn per user and epoch (each with its own end), so that long histories give
    /// more than one window's worth of targets per epoch.
    public var windowsPerUser = 1

    public init() {}
}
