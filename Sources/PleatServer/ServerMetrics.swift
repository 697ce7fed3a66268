import Foundation
import PleatCore
import PleatScoring
import PleatStorage

/// Request counts, a latency histogram and the cache hit ratio, with the serving model, the age of its
/// lists and the process's resources, rendered in Prometheus' text format for `GET /metrics`.
public final class ServerMetrics: @unchecked Sendable {
    /// Upper bounds of the latency buckets, in seconds.
    static let bounds: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
    private let lock = NSLock()
    private var requests: [String: Int] = [:]   // "route|status"
    private var buckets = [Int](repeating: 0, count: ServerMetrics.bounds.count + 1)
    private var latencySum = 0.0, latencyCount = 0
    private var sources: [Recommendation.Source: Int] = [:]

    /// When the server started (`process_start_time_seconds`).
    let started = Date().timeIntervalSince1970

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

    /// How the server knows whether cached lists are current.
    public struct Freshness: Sendable {
        /// Ingest commits are being listened to.
        public var listening: Bool
        /// PostgreSQL reads of a user's newest event so far.
        public var queries: Int
        public init(listening: Bool, queries: Int) { (self.listening, self.queries) = (listening, queries) }
    }

    /// `activation`: the cache's active set (nil: none yet, or the cache could not be read).
    public func render(activation: RecommendationCache.Activation? = nil, freshness: Freshness? = nil, process: ProcessStatistics = .current(),
                       now: Double = Date().timeIntervalSince1970) -> String {
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
            /// One metric with one value: its help and type lines, then the sample.
            func gauge(_ name: String, _ help: String, type: String = "gauge", labels: String = "", _ value: String) {
                out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name)\(labels) \(value)\n"
            }
            gauge("pleat_cache_hit_ratio", "Share of model answers served from the cache.", "\(scored == 0 ? 0 : Double(hits) / Double(scored))")
            if let activation {
                gauge("pleat_active_model_info", "The model whose lists the cache serves.", labels: "{model_id=\"\(activation.modelId)\"}", "1")
                gauge("pleat_cache_users", "Users with a list in the active set when it was activated.", "\(activation.users)")
                gauge("pleat_cache_age_seconds", "Seconds since the active set's scoring finished.",
                      "\(max(0, now - (activation.scoredAt ?? activation.switchedAt)))")
            }
            if let freshness {
                gauge("pleat_ingest_watch_up", "Whether ingest commits are being listened to (else every lookup asks PostgreSQL).",
                      freshness.listening ? "1" : "0")
                gauge("pleat_freshness_queries_total", "Lookups that asked PostgreSQL for a user's newest event.", type: "counter", "\(freshness.queries)")
            }
            gauge("process_cpu_seconds_total", "User and system CPU time.", type: "counter", "\(process.cpuSeconds)")
            gauge("process_resident_memory_bytes", "Resident memory.", "\(process.residentBytes)")
            gauge("process_open_fds", "Open file descriptors.", "\(process.openFileDescriptors)")
            gauge("process_threads", "Threads of the process.", "\(process.threads)")
            gauge("process_start_time_seconds", "When the server started, in Unix seconds.", "\(started)")
            return out
        }
    }
}
