/// PostgreSQL array literals for query parameters (cast with `$n::text[]`).
enum PostgresArray {
    /// `{"a","b"}`, each element quoted and escaped.
    static func text(_ values: [String]) -> String {
        "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }
}
