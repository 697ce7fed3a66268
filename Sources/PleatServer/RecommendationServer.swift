import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdCore
import NIOCore
import PleatCore
import PleatScoring
import PleatStorage

/// `pleat serve`: the recommendation endpoint over HTTP.
///   GET /v1/users/{id}/recommendations?k=10  → Recommendation JSON (400 with a JSON error on bad input)
///   POST /v1/recommendations                 → the same for a user and the events of their session that
///                                              no ingest has stored yet: {"user":"u1","k":10,"events":
///                                              [{"item":"i9","time":1733500000,"event":"view"}]}, scored
///                                              live and not cached (`RecommendationRequest`)
///   GET /healthz                             → {"status":"ok","database":"reachable"|"unreachable"}
///   GET /metrics                             → Prometheus text
///
/// Cache hits need no PostgreSQL round trip: the server listens for ingest commits (`FreshnessWatch`)
/// and asks PostgreSQL for a user's newest event only once after each.
///
/// Cache lookups and live scoring run on executors of their own (`BlockingExecutor`), so `/healthz`
/// never waits for them and a cache hit never waits behind live scoring. Live scoring has a bounded
/// queue: when it is full the answer is 503 with `Retry-After`, as it is while PostgreSQL is unreachable
/// for a user without a cached list (users with one get it, `"freshness": "unchecked"`). An unexpected
/// error answers 500 with a generic message and a request id that the server log has next to the error.
/// SIGTERM and SIGINT stop accepting connections, finish the requests in flight and exit 0.
///
/// A server of one shard (`--shard I/N`) answers only its own users; another shard's user gets
/// 421 Misdirected Request with a `Pleat-Shard` header naming the user's shard (`J/N`) and the same in
/// the JSON body (`"shard"`), so a client or load balancer can retry there (docs/sharding.md).
public struct RecommendationServer: Sendable {
    public let recommender: Recommender
    public let metrics: ServerMetrics
    /// The users this server answers.
    public let shard: Shard
    /// The largest k a request may ask for.
    public static let maximumK = 1_000
    /// The longest user id a request may carry: what ingest accepts.
    public static let maximumUserIdBytes = EventRules.maxIdBytes
    /// Longest event type name a request may ask for (the names are a log's behaviour labels).
    public static let maximumEventBytes = 64
    /// The largest request body (`POST /v1/recommendations`): `RecentEvent.maximumPerRequest` events with
    /// long ids fit.
    public static let maximumBodyBytes = 1 << 20
    /// Seconds a client is told to wait (Retry-After) when the server cannot answer now.
    public static let retryAfterSeconds = 1

    /// Threads and queue bounds of the two executors.
    public struct Capacity: Sendable {
        public var lookupThreads = 4, lookupQueue = 1_024
        public var liveThreads = 2, liveQueue = 32
        public init() {}
    }

    let lookups: BlockingExecutor
    let scoring: BlockingExecutor
    /// Where errors go, each with its request id (stderr by default), and the access log if any.
    let log: ServerLog
    let requestIds = RequestIds()

    public init(recommender: Recommender, metrics: ServerMetrics = ServerMetrics(), capacity: Capacity = Capacity(), shard: Shard = .all,
                log: ServerLog = ServerLog()) {
        self.recommender = recommender
        self.metrics = metrics
        self.shard = shard
        self.log = log
        lookups = BlockingExecutor(name: "pleat-lookup", threads: capacity.lookupThreads, queueLimit: capacity.lookupQueue)
        scoring = BlockingExecutor(name: "pleat-live", threads: capacity.liveThreads, queueLimit: capacity.liveQueue)
    }

    /// Serves until the task is cancelled or the process gets SIGTERM or SIGINT (requests in flight
    /// finish first). `onRunning` gets the bound port (useful with port 0).
    public func run(host: String = "127.0.0.1", port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        // Short headers only; bodies are bounded where they are read (`maximumBodyBytes`).
        let limits = HTTP1Channel.Configuration(idleTimeout: .seconds(60), httpDecoderConfiguration: .init(
            maxHeaderFieldSize: 8 << 10, maxHeaderListSize: 32 << 10, maxHeaderFieldCount: 100))
        let app = Application(
            router: router(),
            server: .http1(configuration: limits),
            configuration: .init(address: .hostname(host, port: port), serverName: "pleat"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
        recommender.watchIngests()
        defer { recommender.stopWatching(); lookups.shutdown(); scoring.shutdown() }
        do {
            try await app.runService()
        } catch let error as IOError where [EADDRINUSE, EACCES, EADDRNOTAVAIL].contains(error.errnoCode) {
            throw ListenError(host: host, port: port, errno: error.errnoCode)
        }
    }

    /// The address cannot be listened on: which address, why, and what to do about it.
    public struct ListenError: Error, CustomStringConvertible {
        public let host: String, port: Int, errno: Int32

        public var description: String {
            let fix = switch errno {
            case EADDRINUSE: "another process listens there: stop it or choose another --port"
            case EACCES: "ports below 1024 need privileges: choose --port 1024 or above"
            default: "the address is not one of this machine's: choose another --host"
            }
            return "cannot listen on \(host):\(port): \(String(cString: strerror(errno))); \(fix)"
        }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let recommender = recommender, metrics = metrics, lookups = lookups, scoring = scoring
        router.get("/v1/users/:id/recommendations") { request, context -> Response in
            var reply = Reply(server: self, request: request)
            guard let raw = context.parameters.get("id"), !raw.isEmpty else {
                return reply(.badRequest, Self.error("missing user id"))
            }
            // The router hands the path segment over as sent: ids with spaces or non-ASCII arrive escaped.
            guard let user = raw.removingPercentEncoding, !user.isEmpty else {
                return reply(.badRequest, Self.error("the user id is not valid percent-encoded UTF-8"))
            }
            reply.user = user
            var k = 10
            if let raw = request.uri.queryParameters["k"] {
                guard let value = Int(raw), Self.ks.contains(value) else {
                    return reply(.badRequest, Self.error("k must be an integer from 1 to \(Self.maximumK), got '\(String(raw.prefix(40)))'"))
                }
                k = value
            }
            // The query's values arrive percent-decoded.
            let event = request.uri.queryParameters["event"].map(String.init), count = k
            return await reply.answer(user: user, event: event) {
                switch try await lookups.run({ try recommender.fromCache(user: user, k: count, event: event) }) {
                case .answer(let cached): cached
                case .live(let work): try await scoring.run { try recommender.live(work) }
                }
            }
        }
        router.post("/v1/recommendations") { request, _ -> Response in
            var reply = Reply(server: self, request: request)
            let asked: RecommendationRequest
            do {
                let body = try await request.body.collect(upTo: Self.maximumBodyBytes)
                asked = try RecommendationRequest.decode(Data(buffer: body))
            } catch let problem as RecommendationRequest.Problem {
                return reply(.badRequest, Self.error(problem.description))
            } catch {
                return reply(.contentTooLarge, Self.error("the request body is larger than \(Self.maximumBodyBytes) bytes"))
            }
            reply.user = asked.user
            let k = asked.k ?? 10
            guard Self.ks.contains(k) else { return reply(.badRequest, Self.error("k must be an integer from 1 to \(Self.maximumK), got \(k)")) }
            return await reply.answer(user: asked.user, event: asked.event) {
                try await scoring.run { try recommender.recommend(user: asked.user, k: k, event: asked.event, recent: asked.events ?? []) }
            }
        }
        router.get("/healthz") { request, _ -> Response in
            let start = DispatchTime.now().uptimeNanoseconds
            defer { self.logAccess(request, status: 200, start: start) }
            return Self.json(.ok, Data(#"{"status":"ok","database":"\#(recommender.databaseReachable ? "reachable" : "unreachable")"}"#.utf8))
        }
        router.get("/metrics") { request, _ -> Response in
            let start = DispatchTime.now().uptimeNanoseconds
            defer { self.logAccess(request, status: 200, start: start) }
            // A cache that cannot be read leaves its lines out; the request counts still help.
            let activation = try? await lookups.run { try recommender.activation() }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(string: metrics.render(
                                activation: activation ?? nil, freshness: .init(listening: recommender.isWatchingIngests, queries: recommender.freshnessQueries)))))
        }
        return router
    }

    static let ks = 1...maximumK

    /// The access log's line for a request that is not a recommendation.
    func logAccess(_ request: Request, status: Int, start: UInt64) {
        log.request(.init(requestId: requestIds.next(), method: request.method.rawValue, path: request.uri.description, status: status,
                          seconds: Self.seconds(since: start)))
    }

    /// One recommendations request's answer: its id and timing, the checks every route shares (user
    /// id, shard, event name), and the mapping of scoring's errors to statuses.
    struct Reply {
        let server: RecommendationServer
        let start = DispatchTime.now().uptimeNanoseconds
        let requestId: String
        let method: String, path: String
        /// The user asked for, once known (for the access log, which leaves out ids too long to be one).
        var user: String? {
            get { loggedUser }
            set { loggedUser = newValue.flatMap { $0.utf8.count <= RecommendationServer.maximumUserIdBytes ? $0 : nil } }
        }
        private var loggedUser: String?

        init(server: RecommendationServer, request: Request) {
            self.server = server
            requestId = server.requestIds.next()
            (method, path) = (request.method.rawValue, request.uri.description)
        }

        func callAsFunction(_ status: HTTPResponse.Status, _ body: Data, source: Recommendation.Source? = nil, retry: Bool = false,
                            ownerShard: Shard? = nil) -> Response {
            let seconds = RecommendationServer.seconds(since: start)
            server.metrics.record(route: "recommendations", status: status.code, seconds: seconds, source: source)
            server.log.request(.init(requestId: requestId, method: method, path: path, status: status.code, seconds: seconds, user: user, source: source))
            var headers: HTTPFields = [.contentType: "application/json", RecommendationServer.requestIdHeader: requestId]
            if retry { headers[.retryAfter] = String(RecommendationServer.retryAfterSeconds) }
            if let ownerShard { headers[RecommendationServer.shardHeader] = ownerShard.description }
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }

        /// `work`'s answer for `user`, once the user belongs to this server's shard and `event` is a
        /// plausible name; errors as statuses (400 the asker's, 503 retry later, 500 ours, logged).
        func answer(user: String, event: String?, _ work: () async throws -> Recommendation) async -> Response {
            guard user.utf8.count <= RecommendationServer.maximumUserIdBytes else {
                return self(.badRequest, RecommendationServer.error("user id longer than \(RecommendationServer.maximumUserIdBytes) bytes"))
            }
            if let event, event.isEmpty || event.utf8.count > RecommendationServer.maximumEventBytes {
                return self(.badRequest, RecommendationServer.error(
                    "event must name an event type (at most \(RecommendationServer.maximumEventBytes) bytes), got '\(String(event.prefix(40)))'"))
            }
            let owner = server.shard.owner(of: user)
            if owner != server.shard {
                return self(.misdirectedRequest, RecommendationServer.misdirected(user: user, owner: owner, server: server.shard), ownerShard: owner)
            }
            do {
                let answer = try await work()
                return self(.ok, try JSONEncoder.snakeCase().encode(answer), source: answer.source)
            } catch let unknown as UnknownEventType {
                return self(.badRequest, RecommendationServer.error(unknown.description))
            } catch let recent as RecentEventError {
                return self(.badRequest, RecommendationServer.error(recent.description))
            } catch let scoring as ScoringError {
                // Nothing serves yet, or the serving model cannot be loaded: not this request's fault.
                return self(.serviceUnavailable, RecommendationServer.error(scoring.description))
            } catch is BlockingExecutor.Busy {
                return self(.serviceUnavailable, RecommendationServer.error("busy: too many requests need live scoring; retry shortly"), retry: true)
            } catch let unavailable as RecommenderUnavailable {
                return self(.serviceUnavailable, RecommendationServer.error(unavailable.description), retry: true)
            } catch {
                server.log.message("request \(requestId) failed: \(ConnectionString.redacted("\(error)"))")
                return self(.internalServerError, RecommendationServer.error("internal error (request id \(requestId); the server log has the details)"))
            }
        }
    }

    static func json(_ status: HTTPResponse.Status, _ body: Data) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func error(_ message: String) -> Data {
        (try? JSONEncoder.snakeCase().encode(["error": message])) ?? Data(#"{"error":"unknown"}"#.utf8)
    }

    // These two cannot fail: `HTTPField.Name` is nil only for a name that is not an HTTP token, and both are.
    static let requestIdHeader = HTTPField.Name("X-Request-Id")!
    /// The shard (`J/N`) that owns the user of a misdirected request.
    public static let shardHeader = HTTPField.Name("Pleat-Shard")!

    static func misdirected(user: String, owner: Shard, server: Shard) -> Data {
        let body = ["error": "user \(user.prefix(80)) belongs to shard \(owner); this server answers shard \(server)", "shard": owner.description]
        return (try? JSONEncoder.snakeCase().encode(body)) ?? Data(#"{"error":"misdirected"}"#.utf8)
    }

    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}

/// Short unique ids for requests: the process start time and a counter.
final class RequestIds: @unchecked Sendable {
    private let lock = NSLock()
    private var counter = 0
    private let prefix = String(UInt32(truncatingIfNeeded: Int(Date().timeIntervalSince1970)), radix: 36)

    func next() -> String { lock.withLock { counter += 1; return "\(prefix)-\(counter)" } }
}
