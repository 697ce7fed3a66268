/// The `models` table: the registry of trained models. Its JSON columns (config, metrics, history) are
/// given and returned as JSON text; `ModelRegistry` (PleatModel) maps them to its typed record.
public struct ModelTable {
    public struct Row: Sendable, Equatable {
        public var id: String, kind: String, config: String
        public var snapshotBatch: Int, users: Int, items: Int, events: Int, bestEpoch: Int, epochs: Int
        /// JSON text of the `jsonb` columns.
        public var validMetrics: String, testMetrics: String, testSampled: String, history: String
        public var artifactPath: String, artifactSHA256: String
        public var loadSeconds: Double, trainSeconds: Double, totalSeconds: Double
        /// Set by the database on insert (ISO-8601, UTC).
        public var createdAt: String?

        public init(id: String, kind: String, config: String, snapshotBatch: Int, users: Int, items: Int, events: Int,
                    bestEpoch: Int, epochs: Int, validMetrics: String, testMetrics: String, testSampled: String, history: String,
                    artifactPath: String, artifactSHA256: String, loadSeconds: Double, trainSeconds: Double, totalSeconds: Double,
                    createdAt: String?) {
            (self.id, self.kind, self.config, self.snapshotBatch, self.users, self.items, self.events) =
                (id, kind, config, snapshotBatch, users, items, events)
            (self.bestEpoch, self.epochs, self.validMetrics, self.testMetrics, self.testSampled, self.history) =
                (bestEpoch, epochs, validMetrics, testMetrics, testSampled, history)
            (self.artifactPath, self.artifactSHA256, self.loadSeconds, self.trainSeconds, self.totalSeconds, self.createdAt) =
                (artifactPath, artifactSHA256, loadSeconds, trainSeconds, totalSeconds, createdAt)
        }
    }

    let db: PostgresConnection
    public init(_ db: PostgresConnection) { self.db = db }

    /// Inserts the row; the same id twice is a no-op (a re-run after a crash between registering and exiting).
    public func insert(_ r: Row) throws {
        _ = try db.query("""
            INSERT INTO models (id, kind, config, snapshot_batch, users, items, events, best_epoch, epochs,
                                valid_metrics, test_metrics, history, artifact_path, artifact_sha256,
                                load_seconds, train_seconds, total_seconds, test_sampled)
            VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12::jsonb, $13, $14, $15, $16, $17, $18::jsonb)
            ON CONFLICT (id) DO NOTHING
            """, [.text(r.id), .text(r.kind), .text(r.config), .int(r.snapshotBatch), .int(r.users), .int(r.items), .int(r.events),
                  .int(r.bestEpoch), .int(r.epochs), .text(r.validMetrics), .text(r.testMetrics), .text(r.history),
                  .text(r.artifactPath), .text(r.artifactSHA256), .double(r.loadSeconds), .double(r.trainSeconds),
                  .double(r.totalSeconds), .text(r.testSampled)])
    }

    /// Rows newest first, of one kind or all.
    public func list(kind: String?, limit: Int) throws -> [Row] { try select("$1::text IS NULL OR kind = $1", .text(kind), limit: limit) }

    public func find(id: String) throws -> Row? { try select("id = $1", .text(id), limit: 1).first }

    private func select(_ condition: String, _ parameter: PostgresValue, limit: Int) throws -> [Row] {
        try db.query("""
            SELECT id, kind, config::text AS config, snapshot_batch, users, items, events, best_epoch, epochs,
                   valid_metrics::text AS valid_metrics, test_metrics::text AS test_metrics, history::text AS history,
                   artifact_path, artifact_sha256, load_seconds, train_seconds, total_seconds,
                   to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at, test_sampled::text AS test_sampled
            FROM models WHERE \(condition) ORDER BY models.created_at DESC, id DESC LIMIT $2
            """, [parameter, .int(limit)]).rows.map { row in
            Row(id: try row.string("id"), kind: try row.string("kind"), config: try row.string("config"),
                snapshotBatch: try row.int("snapshot_batch"), users: try row.int("users"), items: try row.int("items"),
                events: try row.int("events"), bestEpoch: try row.int("best_epoch"), epochs: try row.int("epochs"),
                validMetrics: try row.string("valid_metrics"), testMetrics: try row.string("test_metrics"),
                testSampled: try row.string("test_sampled"), history: try row.string("history"),
                artifactPath: try row.string("artifact_path"), artifactSHA256: try row.string("artifact_sha256"),
                loadSeconds: try row.double("load_seconds"), trainSeconds: try row.double("train_seconds"),
                totalSeconds: try row.double("total_seconds"), createdAt: try row.optionalString("created_at"))
        }
    }
}
