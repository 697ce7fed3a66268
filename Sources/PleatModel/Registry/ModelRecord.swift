import PleatMetrics

/// A registered model: one row of the `models` table.
public struct ModelRecord: Sendable, Codable, Equatable {
    public var id: String
    public var kind: ModelKind
    /// The resolved training config as JSON (snake_case keys).
    public var config: String
    public var snapshotBatch: Int
    public var users: Int
    public var items: Int
    public var events: Int
    public var bestEpoch: Int
    public var epochs: Int
    public var valid: MetricSummary
    public var test: MetricSummary
    /// Test metrics against 100 sampled negatives: "uniform" and "popularity".
    public var testSampled: [String: MetricSummary]
    /// Per-epoch records (the training curve).
    public var history: [EpochRecord]
    public var artifactPath: String
    public var artifactSHA256: String
    public var loadSeconds: Double
    public var trainSeconds: Double
    public var totalSeconds: Double
    /// Set by the database on insert.
    public var createdAt: String?

    /// `artifactSHA256` is named so that snake_case JSON (`artifact_sha256`) reads back into it.
    private enum CodingKeys: String, CodingKey {
        case id, kind, config, snapshotBatch, users, items, events, bestEpoch, epochs, valid, test, testSampled, history
        case artifactPath, artifactSHA256 = "artifactSha256", loadSeconds, trainSeconds, totalSeconds, createdAt
    }

    public init(id: String, kind: ModelKind, config: String, snapshotBatch: Int, users: Int, items: Int, events: Int,
                bestEpoch: Int, epochs: Int, valid: MetricSummary, test: MetricSummary, testSampled: [String: MetricSummary],
                history: [EpochRecord], artifactPath: String, artifactSHA256: String, loadSeconds: Double, trainSeconds: Double,
                totalSeconds: Double, createdAt: String? = nil) {
        (self.id, self.kind, self.config, self.snapshotBatch, self.users, self.items, self.events) = (id, kind, config, snapshotBatch, users, items, events)
        (self.bestEpoch, self.epochs, self.valid, self.test, self.testSampled) = (bestEpoch, epochs, valid, test, testSampled)
        (self.history, self.artifactPath, self.artifactSHA256) = (history, artifactPath, artifactSHA256)
        (self.loadSeconds, self.trainSeconds, self.totalSeconds, self.createdAt) = (loadSeconds, trainSeconds, totalSeconds, createdAt)
    }
}
