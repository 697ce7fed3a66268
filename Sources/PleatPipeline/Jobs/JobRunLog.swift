import Foundation
import PleatStorage

/// The `job_runs` table: one row per attempt of a job, from start to its outcome.
public struct JobRunLog {
    public enum Status: String, Sendable, Codable { case running, succeeded, skipped, failed }

    /// One recorded run (`pleat jobs status`).
    public struct Run: Sendable, Codable {
        public var id: Int, job: String, attempt: Int, status: Status, pid: Int
        public var startedAt: String, finishedAt: String?, seconds: Double?
        public var models: [String], promoted: String?, message: String?, error: String?
    }

    let db: PostgresConnection
    public init(_ db: PostgresConnection) { self.db = db }

    func start(job: String, attempt: Int) throws -> Int {
        try db.query("INSERT INTO job_runs (job, attempt, status, pid) VALUES ($1, $2, 'running', $3) RETURNING id",
                     [job, String(attempt), String(getpid())]).int(0, 0)!
    }

    func finish(_ id: Int, status: Status, models: [String] = [], promoted: String? = nil, message: String? = nil, error: String? = nil) throws {
        _ = try db.query("""
            UPDATE job_runs SET status = $2, finished_at = now(), models = $3::text[], promoted = $4, message = $5, error = $6 WHERE id = $1
            """, [String(id), status.rawValue, PostgresArray.text(models), promoted, message, error])
    }

    /// Runs of `job` still marked running when no run can be (the caller holds the job's lock): their
    /// process was killed or crashed. They are recorded as failed.
    func failInterrupted(job: String) throws -> [Int] {
        let rows = try db.query("""
            UPDATE job_runs SET status = 'failed', finished_at = now(),
                error = 'interrupted: process ' || pid || ' ended before the run finished (killed or crashed)'
            WHERE job = $1 AND status = 'running' RETURNING id
            """, [job])
        return (0..<rows.rowCount).map { rows.int($0, 0)! }
    }

    /// The newest runs, of one job or all.
    public func recent(job: String? = nil, limit: Int = 20) throws -> [Run] {
        let rows = try db.query("""
            SELECT id, job, attempt, status, pid, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), extract(epoch FROM finished_at - started_at)::float8,
                   array_to_string(models, ','), promoted, message, error
            FROM job_runs WHERE $1::text IS NULL OR job = $1 ORDER BY id DESC LIMIT \(limit)
            """, [job])
        return (0..<rows.rowCount).map { i in
            Run(id: rows.int(i, 0)!, job: rows.string(i, 1)!, attempt: rows.int(i, 2)!, status: Status(rawValue: rows.string(i, 3)!)!,
                pid: rows.int(i, 4)!, startedAt: rows.string(i, 5)!, finishedAt: rows.string(i, 6), seconds: rows.double(i, 7),
                models: rows.string(i, 8)!.split(separator: ",").map(String.init), promoted: rows.string(i, 9),
                message: rows.string(i, 10), error: rows.string(i, 11))
        }
    }
}
