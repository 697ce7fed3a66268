import Foundation
import PleatCore
import PleatMetrics
import PleatStorage

/// The `models` table: trained models, their configs, data snapshot, metrics and artifacts.
public struct ModelRegistry {
    let db: PostgresConnection

    public init(_ db: PostgresConnection) { self.db = db }

    /// Inserts the record; registering the same id twice is a no-op (a re-run after a crash that
    /// happened between registering and exiting).
    public func register(_ r: ModelRecord) throws {
        _ = try db.query("""
            INSERT INTO models (id, kind, config, snapshot_batch, users, items, events, best_epoch, epochs,
                                valid_metrics, test_metrics, history, artifact_path, artifact_sha256,
                                load_seconds, train_seconds, total_seconds, test_sampled)
            VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12::jsonb, $13, $14, $15, $16, $17, $18::jsonb)
            ON CONFLICT (id) DO NOTHING
            """, [.text(r.id), .text(r.kind.rawValue), .text(r.config), .int(r.snapshotBatch), .int(r.users), .int(r.items), .int(r.events),
                  .int(r.bestEpoch), .int(r.epochs), try .json(r.valid), try .json(r.test), try .json(r.history),
                  .text(r.artifactPath), .text(r.artifactSHA256), .double(r.loadSeconds), .double(r.trainSeconds), .double(r.totalSeconds),
                  try .json(r.testSampled)])
    }

    /// Registered models, newest first (optionally of one kind).
    public func list(kind: ModelKind? = nil, limit: Int = 1_000) throws -> [ModelRecord] {
        try select(where: "$1::text IS NULL OR kind = $1", [.text(kind?.rawValue)], limit: limit)
    }

    public func find(_ id: String) throws -> ModelRecord? { try select(where: "id = $1", [.text(id)], limit: 1).first }

    private func select(where condition: String, _ parameters: [PostgresValue], limit: Int) throws -> [ModelRecord] {
        let result = try db.query("""
            SELECT id, kind, config::text AS config, snapshot_batch, users, items, events, best_epoch, epochs,
                   valid_metrics::text AS valid_metrics, test_metrics::text AS test_metrics, history::text AS history,
                   artifact_path, artifact_sha256, load_seconds, train_seconds, total_seconds,
                   to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at, test_sampled::text AS test_sampled
            FROM models WHERE \(condition) ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, parameters)
        return try result.rows.map { row in
            ModelRecord(id: try row.string("id"), kind: try row.value(ModelKind.self, "kind"), config: try row.string("config"),
                        snapshotBatch: try row.int("snapshot_batch"), users: try row.int("users"), items: try row.int("items"),
                        events: try row.int("events"), bestEpoch: try row.int("best_epoch"), epochs: try row.int("epochs"),
                        valid: try row.json(MetricSummary.self, "valid_metrics"), test: try row.json(MetricSummary.self, "test_metrics"),
                        testSampled: try row.json([String: MetricSummary].self, "test_sampled"), history: try row.json([EpochRecord].self, "history"),
                        artifactPath: try row.string("artifact_path"), artifactSHA256: try row.string("artifact_sha256"),
                        loadSeconds: try row.double("load_seconds"), trainSeconds: try row.double("train_seconds"),
                        totalSeconds: try row.double("total_seconds"), createdAt: try row.optionalString("created_at"))
        }
    }
}
