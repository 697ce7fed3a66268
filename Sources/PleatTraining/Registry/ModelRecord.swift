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
    public var valid: [String: Double]
    public var test: [String: Double]
    /// Test metrics against 100 sampled negatives: "uniform" and "popularity".
    public var testSampled: [String: [String: Double]]
    /// Per-epoch records as JSON.
    public var history: String
    public var artifactPath: String
    public var artifactSHA256: String
    public var loadSeconds: Double
    public var trainSeconds: Double
    public var totalSeconds: Double
    /// Set by the database on insert.
    public var createdAt: String?
}
