/// The `promotions` table: each decision on whether a model may serve, with its figures (JSON), so that
/// what made a model the serving one (or kept it out) can be read back, forced activations included.
public struct PromotionLog {
    public struct Entry: Sendable {
        public var modelId: String, servingModelId: String?, promoted: Bool, forced: Bool
        /// The decision as it was recorded (JSON).
        public var decision: String
        public var decidedAt: String
    }

    let db: PostgresConnection
    public init(_ db: PostgresConnection) { self.db = db }

    /// Records a decision on `modelId` (`decision`: any encodable record of it, stored as JSON).
    public func record(modelId: String, servingModelId: String?, promoted: Bool, forced: Bool, decision: some Encodable) throws {
        _ = try db.query("""
            INSERT INTO promotions (model_id, serving_model_id, promoted, forced, decision) VALUES ($1, $2, $3, $4, $5::jsonb)
            """, [.text(modelId), .text(servingModelId), .bool(promoted), .bool(forced), try .json(decision)])
    }

    /// The decisions on `modelId`, newest first.
    public func decisions(modelId: String) throws -> [Entry] {
        try db.query("""
            SELECT model_id, serving_model_id, promoted, forced, decision::text AS decision,
                   to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS decided_at
            FROM promotions WHERE model_id = $1 ORDER BY id DESC
            """, [.text(modelId)]).rows.map { row in
            Entry(modelId: try row.string("model_id"), servingModelId: try row.optionalString("serving_model_id"),
                  promoted: try row.bool("promoted"), forced: try row.bool("forced"), decision: try row.string("decision"),
                  decidedAt: try row.string("decided_at"))
        }
    }
}
