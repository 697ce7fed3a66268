import Foundation
import PleatCore
import PleatStorage

/// The served lists leaving Pleat as files (`pleat export recommendations`): every list of the cache's
/// active model, exactly as `pleat recommend` and the server answer a cache hit, for a team's own
/// stores and checks. Streamed: one list in memory at a time.
public enum RecommendationExport {
    public enum FileFormat: String, CaseIterable, Sendable {
        /// One row per recommended item: `user_id,event,rank,item_id,score,model_id,computed_at`
        /// (RFC 4180 quoting; `rank` from 1; `computed_at` ISO-8601 UTC).
        case csv
        /// One JSON object per list: `user`, `event`, `model_id`, `computed_at`, `history_until`,
        /// `items` ([{`item`, `score`}], best first).
        case jsonl
    }

    /// Writes every list of `cache`'s active model in `format` to `output`; returns the lists written.
    @discardableResult
    public static func write(_ cache: RecommendationCache, format: FileFormat, to output: FileHandle) throws -> Int {
        var buffer = format == .csv ? "user_id,event,rank,item_id,score,model_id,computed_at\n" : ""
        var lists = 0
        func flush(force: Bool = false) throws {
            guard force || buffer.utf8.count >= 1 << 16 else { return }
            try output.write(contentsOf: Data(buffer.utf8))
            buffer.removeAll(keepingCapacity: true)
        }
        let encoder = JSONEncoder.snakeCase(), timestamps = ISO8601DateFormatter()
        try cache.forEachActiveList { modelId, list in
            lists += 1
            let computed = timestamps.string(from: Date(timeIntervalSince1970: list.computedAt))
            switch format {
            case .csv:
                for (rank, (item, score)) in zip(list.items, list.scores).enumerated() {
                    buffer += [csvField(list.user), csvField(list.event), String(rank + 1), csvField(item), "\(score)", csvField(modelId), computed]
                        .joined(separator: ",") + "\n"
                }
            case .jsonl:
                let line = Line(user: list.user, event: list.event, modelId: modelId, computedAt: computed, historyUntil: list.historyUntil,
                                items: zip(list.items, list.scores).map { Line.Item(item: $0, score: $1) })
                buffer += String(decoding: try encoder.encode(line), as: UTF8.self) + "\n"
            }
            try flush()
        }
        try flush(force: true)
        return lists
    }

    /// A field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break.
    public static func csvField(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    struct Line: Encodable {
        struct Item: Encodable { let item: String, score: Float }
        let user: String, event: String, modelId: String, computedAt: String, historyUntil: Int64, items: [Item]
    }
}
