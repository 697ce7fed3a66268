import Foundation

/// The `job_runs` table: one row per attempt of a scheduled job, from its start to its outcome.
public struct JobRunLog {
    public enum Status: String, Sendable, Codable { case running, succeeded, skipped, failed }

    /// One recorded run (`pleat jobs status`).
    public struct Run: Sendable, Codable {
        public var id: Int, job: String, attempt: Int, status: Status, pid: Int
        public var startedAt: String, finishedAt: String?, seconds: Double?
        public var models: [String], promoted: String?, message: String?, error: String?
        /// The run's promotion decision as recorded (JSON), when it reached one.
        public var promotion: String?
    }

    let db: PostgresConnection
    public init(_ db: PostgresConnection) { self.db = db }

    /// Records that this process starts attempt `attempt` of `job`; returns the run's id.
    public func start(job: String, attempt: Int) throws -> Int {
        let rows = try db.query("INSERT INTO job_runs (job, attempt, status, pid) VALUES ($1, $2, 'running', $3) RETURNING id",
                                [.text(job), .int(attempt), .int(Int(getpid()))])
        return try rows.only("job_runs insert").int("id")
    }

    /// `promotion`: the run's promotion decision (stored as JSON), when it reached one.
    public func finish(_ id: Int, status: Status, models: [String] = [], promoted: String? = nil, message: String? = nil,
                       error: String? = nil, promotion: (some Encodable)? = Optional<String>.none) throws {
        _ = try db.query("""
            UPDATE job_runs SET status = $2, finished_at = now(), models = $3::text[], promoted = $4, message = $5, error = $6,
                promotion = $7::jsonb
            WHERE id = $1
            """, [.int(id), .text(status.rawValue), .textArray(models), .text(promoted), .text(message), .text(error),
                  try promotion.map { try .json($0) } ?? .text(nil)])
    }

    /// Runs of `job` still marked running when no run can be (the caller holds the job's lock): their
    /// process was killed or crashed. They are recorded as failed.
    public func failInterrupted(job: String) throws -> [Int] {
        try db.query("""
            UPDATE job_runs SET status = 'failed', finished_at = now(),
                error = 'interrupted: process ' || pid || ' ended before the run finished (killed or crashed)'
            WHERE job = $1 AND status = 'running' RETURNING id
            """, [.text(job)]).rows.map { try $0.int("id") }
    }

    /// The newest runs, of one job or all.
    public func recent(job: String? = nil, limit: Int = 20) throws -> [Run] {
        try db.query("""
            SELECT id, job, attempt, status, pid,
                   to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS started_at,
                   to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS finished_at,
                   extract(epoch FROM finished_at - started_at)::float8 AS seconds,
                   array_to_string(models, ',') AS models, promoted, message, error, promotion::text AS promotion
            FROM job_runs WHERE $1::text IS NULL OR job = $1 ORDER BY id DESC LIMIT $2
            """, [.text(job), .int(limit)]).rows.map { row in
            Run(id: try row.int("id"), job: try row.string("job"), attempt: try row.int("attempt"),
                status: try row.value(Status.self, "status"), pid: try row.int("pid"), startedAt: try row.string("started_at"),
                finishedAt: try row.optionalString("finished_at"), seconds: try row.optionalDouble("seconds"),
                models: (try row.optionalString("models") ?? "").split(separator: ",").map(String.init),
                promoted: try row.optionalString("promoted"), message: try row.optionalString("message"),
                error: try row.optionalString("error"), promotion: try row.optionalString("promotion"))
        }
    }
}
