import Foundation
import PleatScoring

/// Request counts, a latency histogram and the cache hit ratio, rendered in Prometheus' text format
/// for `GET /metrics`.
public final class ServerMetrics: @unchecked Sendable {
    /// Upper bounds of the latency buckets, in seconds.
    static let bounds: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
    private let lock = NSLock()
    private var requests: [String: Int] = [:]   // "route|status"
    private var buckets = [Int](repeating: 0, count: ServerMetrics.bounds.count + 1)
    private var latencySum = 0.0, latencyCount = 0
    private var sources: [Recommendation.Source: Int] = [:]

    public init() {}

    func record(route: String, status: Int, seconds: Double, source: Recommendation.Source? = nil) {
        lock.withLock {
            requests["\(route)|\(status)", default: 0] += 1
            buckets[Self.bounds.firstIndex { seconds <= $0 } ?? Self.bounds.count] += 1
            latencySum += seconds
            latencyCount += 1
            if let source { sources[source, default: 0] += 1 }
        }
    }

    public func render() -> String {
        lock.withLock {
            var out = "# HELP pleat_http_requests_total HTTP requests by route and status.\n# TYPE pleat_http_requests_total counter\n"
            for key in requests.keys.sorted() {
                let parts = key.split(separator: "|")
                out += "pleat_http_requests_total{route=\"\(parts[0])\",status=\"\(parts[1])\"} \(requests[key, default: 0])\n"
            }
            out += "# HELP pleat_http_request_duration_seconds Time to answer a request.\n# TYPE pleat_http_request_duration_seconds histogram\n"
            var cumulative = 0
            for (i, bound) in Self.bounds.enumerated() {
                cumulative += buckets[i]
                out += "pleat_http_request_duration_seconds_bucket{le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "pleat_http_request_duration_seconds_bucket{le=\"+Inf\"} \(latencyCount)\n"
            out += "pleat_http_request_duration_seconds_sum \(latencySum)\npleat_http_request_duration_seconds_count \(latencyCount)\n"
            out += "# HELP pleat_recommendations_total Recommendations by source (cache, live, fallback).\n# TYPE pleat_recommendations_total counter\n"
            for source in [Recommendation.Source.cache, .live, .fallback] {
                out += "pleat_recommendations_total{source=\"\(source.rawValue)\"} \(sources[source] ?? 0)\n"
            }
            let hits = sources[.cache] ?? 0, scored = hits + (sources[.live] ?? 0)
            out += "# HELP pleat_cache_hit_ratio Share of model answers served from the cache.\n# TYPE pleat_cache_hit_ratio gauge\n"
            out += "pleat_cache_hit_ratio \(scored == 0 ? 0 : Double(hits) / Double(scored))\n"
            return out
        }
    }
}
