/// The `evaluation_runs` table: every offline evaluation, with its metrics and where its report is.
public struct EvaluationRunLog {
    /// What one evaluation ranked, on what, and where its report went.
    public struct Entry<Metrics: Encodable> {
        public var models: [String], baselines: [String], split: String, snapshotBatch: Int, users: Int
        /// The whole report, stored as JSON.
        public var metrics: Metrics
        public var reportDirectory: String, seconds: Double

        public init(models: [String], baselines: [String], split: String, snapshotBatch: Int, users: Int, metrics: Metrics,
                    reportDirectory: String, seconds: Double) {
            (self.models, self.baselines, self.split, self.snapshotBatch, self.users) = (models, baselines, split, snapshotBatch, users)
            (self.metrics, self.reportDirectory, self.seconds) = (metrics, reportDirectory, seconds)
        }
    }

    let db: PostgresConnection
    public init(_ db: PostgresConnection) { self.db = db }

    /// Records the run; returns its id.
    @discardableResult
    public func record<Metrics>(_ entry: Entry<Metrics>) throws -> Int {
        try db.query("""
            INSERT INTO evaluation_runs (models, baselines, split, snapshot_batch, users, metrics, report_dir, seconds)
            VALUES ($1::text[], $2::text[], $3, $4, $5, $6::jsonb, $7, $8) RETURNING id
            """, [.textArray(entry.models), .textArray(entry.baselines), .text(entry.split), .int(entry.snapshotBatch), .int(entry.users),
                  try .json(entry.metrics), .text(entry.reportDirectory), .double(entry.seconds)]).only("evaluation_runs insert").int("id")
    }
}
