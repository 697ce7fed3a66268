import Foundation
import PleatCore
import PleatStorage

/// The `evaluation_runs` table: every offline evaluation, with its metrics and where its report is.
public struct EvaluationRunLog {
    let db: PostgresConnection
    public init(_ db: PostgresConnection) { self.db = db }

    /// Records the run; returns its id.
    @discardableResult
    public func record(_ report: EvaluationReport, reportDirectory: String) throws -> Int {
        let models = report.rankers.filter { $0.kind != "baseline" }.map(\.name)
        let baselines = report.rankers.filter { $0.kind == "baseline" }.map(\.name)
        let result = try db.query("""
            INSERT INTO evaluation_runs (models, baselines, split, snapshot_batch, users, metrics, report_dir, seconds)
            VALUES ($1::text[], $2::text[], $3, $4, $5, $6::jsonb, $7, $8) RETURNING id
            """, [PostgresArray.text(models), PostgresArray.text(baselines), report.split, String(report.snapshotBatch), String(report.users),
                  String(decoding: try JSONEncoder.snakeCase().encode(report), as: UTF8.self), reportDirectory, String(report.seconds)])
        return result.int(0, 0)!
    }
}
