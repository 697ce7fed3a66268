import Foundation
import Hummingbird
import PleatCore
import PleatScoring

/// `pleat serve`: the recommendation endpoint over HTTP.
///   GET /v1/users/{id}/recommendations?k=10  → Recommendation JSON (400 with a JSON error on bad input)
///   GET /healthz                             → {"status":"ok"}
///   GET /metrics                             → Prometheus text
public struct RecommendationServer: Sendable {
    public let recommender: Recommender
    public let metrics: ServerMetrics
    /// The largest k a request may ask for.
    public static let maximumK = 1_000

    public init(recommender: Recommender, metrics: ServerMetrics = ServerMetrics()) {
        self.recommender = recommender
        self.metrics = metrics
    }

    /// Serves until the task is cancelled or the process is signalled. `onRunning` gets the bound port
    /// (useful with port 0).
    public func run(host: String = "127.0.0.1", port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "pleat"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
        try await app.runService()
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let recommender = recommender, metrics = metrics
        router.get("/v1/users/:id/recommendations") { request, context -> Response in
            let start = DispatchTime.now().uptimeNanoseconds
            func finish(_ status: HTTPResponse.Status, _ body: Data, source: Recommendation.Source? = nil) -> Response {
                metrics.record(route: "recommendations", status: status.code, seconds: Self.seconds(since: start), source: source)
                return Self.json(status, body)
            }
            guard let user = context.parameters.get("id"), !user.isEmpty else {
                return finish(.badRequest, Self.error("missing user id"))
            }
            var k = 10
            if let raw = request.uri.queryParameters["k"] {
                guard let value = Int(raw), (1...Self.maximumK).contains(value) else {
                    return finish(.badRequest, Self.error("k must be an integer from 1 to \(Self.maximumK), got '\(raw)'"))
                }
                k = value
            }
            do {
                let answer = try recommender.recommend(user: user, k: k)
                return finish(.ok, try JSONEncoder.snakeCase().encode(answer), source: answer.source)
            } catch {
                return finish(.internalServerError, Self.error("\(error)"))
            }
        }
        router.get("/healthz") { _, _ -> Response in
            Self.json(.ok, Data(#"{"status":"ok"}"#.utf8))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        return router
    }

    static func json(_ status: HTTPResponse.Status, _ body: Data) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func error(_ message: String) -> Data {
        (try? JSONEncoder.snakeCase().encode(["error": message])) ?? Data(#"{"error":"unknown"}"#.utf8)
    }

    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
