import Foundation
import PleatCore
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
            """, [r.id, r.kind.rawValue, r.config, String(r.snapshotBatch), String(r.users), String(r.items), String(r.events),
                  String(r.bestEpoch), String(r.epochs), try Self.json(r.valid), try Self.json(r.test), r.history,
                  r.artifactPath, r.artifactSHA256, String(r.loadSeconds), String(r.trainSeconds), String(r.totalSeconds),
                  try Self.json(r.testSampled)])
    }

    /// Registered models, newest first (optionally of one kind).
    public func list(kind: ModelKind? = nil, limit: Int = 1_000) throws -> [ModelRecord] {
        try select(where: "$1::text IS NULL OR kind = $1", [kind?.rawValue], limit: limit)
    }

    public func find(_ id: String) throws -> ModelRecord? { try select(where: "id = $1", [id], limit: 1).first }

    private func select(where condition: String, _ parameters: [String?], limit: Int) throws -> [ModelRecord] {
        let result = try db.query("""
            SELECT id, kind, config::text, snapshot_batch, users, items, events, best_epoch, epochs,
                   valid_metrics::text, test_metrics::text, history::text, artifact_path, artifact_sha256,
                   load_seconds, train_seconds, total_seconds, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   test_sampled::text
            FROM models WHERE \(condition) ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """, parameters)
        return try (0..<result.rowCount).map { i in
            ModelRecord(id: result.string(i, 0)!, kind: ModelKind(rawValue: result.string(i, 1)!)!, config: result.string(i, 2)!,
                        snapshotBatch: result.int(i, 3)!, users: result.int(i, 4)!, items: result.int(i, 5)!, events: result.int(i, 6)!,
                        bestEpoch: result.int(i, 7)!, epochs: result.int(i, 8)!,
                        valid: try Self.metrics(result.string(i, 9)!), test: try Self.metrics(result.string(i, 10)!),
                        testSampled: try JSONDecoder().decode([String: [String: Double]].self, from: Data(result.string(i, 18)!.utf8)),
                        history: result.string(i, 11)!, artifactPath: result.string(i, 12)!, artifactSHA256: result.string(i, 13)!,
                        loadSeconds: result.double(i, 14)!, trainSeconds: result.double(i, 15)!, totalSeconds: result.double(i, 16)!,
                        createdAt: result.string(i, 17))
        }
    }

    static func json<T: Encodable>(_ metrics: T) throws -> String {
        String(decoding: try JSONEncoder.snakeCase().encode(metrics), as: UTF8.self)
    }

    static func metrics(_ text: String) throws -> [String: Double] {
        try JSONDecoder().decode([String: Double].self, from: Data(text.utf8))
    }
}
