import Foundation
import PleatCore
import PleatMetrics
import PleatStorage

/// The registry of trained models (`models`, through `ModelTable`): typed records in, typed records out.
public struct ModelRegistry {
    let table: ModelTable

    public init(_ db: PostgresConnection) { table = ModelTable(db) }

    /// Inserts the record; registering the same id twice is a no-op (a re-run after a crash that
    /// happened between registering and exiting).
    public func register(_ r: ModelRecord) throws {
        try table.insert(ModelTable.Row(id: r.id, kind: r.kind.rawValue, config: r.config, snapshotBatch: r.snapshotBatch, users: r.users,
                                        items: r.items, events: r.events, bestEpoch: r.bestEpoch, epochs: r.epochs,
                                        validMetrics: try Self.json(r.valid), testMetrics: try Self.json(r.test),
                                        testSampled: try Self.json(r.testSampled), history: try Self.json(r.history),
                                        artifactPath: r.artifactPath, artifactSHA256: r.artifactSHA256, loadSeconds: r.loadSeconds,
                                        trainSeconds: r.trainSeconds, totalSeconds: r.totalSeconds, createdAt: nil))
    }

    /// Registered models, newest first (optionally of one kind).
    public func list(kind: ModelKind? = nil, limit: Int = 1_000) throws -> [ModelRecord] {
        try table.list(kind: kind?.rawValue, limit: limit).map(Self.record)
    }

    public func find(_ id: String) throws -> ModelRecord? { try table.find(id: id).map(Self.record) }

    private static func record(_ row: ModelTable.Row) throws -> ModelRecord {
        func decode<T: Decodable>(_ type: T.Type, _ text: String, _ column: String) throws -> T {
            do { return try JSONDecoder.snakeCase.decode(T.self, from: Data(text.utf8)) } catch {
                throw ModelRecordError("model \(row.id): models.\(column) does not hold a \(T.self): \(error)")
            }
        }
        guard let kind = ModelKind(rawValue: row.kind) else { throw ModelRecordError("model \(row.id): unknown kind '\(row.kind)'") }
        return ModelRecord(id: row.id, kind: kind, config: row.config, snapshotBatch: row.snapshotBatch, users: row.users, items: row.items,
                           events: row.events, bestEpoch: row.bestEpoch, epochs: row.epochs,
                           valid: try decode(MetricSummary.self, row.validMetrics, "valid_metrics"),
                           test: try decode(MetricSummary.self, row.testMetrics, "test_metrics"),
                           testSampled: try decode([String: MetricSummary].self, row.testSampled, "test_sampled"),
                           history: try decode([EpochRecord].self, row.history, "history"),
                           artifactPath: row.artifactPath, artifactSHA256: row.artifactSHA256, loadSeconds: row.loadSeconds,
                           trainSeconds: row.trainSeconds, totalSeconds: row.totalSeconds, createdAt: row.createdAt)
    }

    private static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONEncoder.snakeCase().encode(value), as: UTF8.self)
    }
}
