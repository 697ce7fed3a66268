import ArgumentParser
import Foundation
import PleatScoring
import PleatServer
import PleatCore
import PleatTensor

/// `pleat serve`: the HTTP endpoint.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve recommendations over HTTP: GET /v1/users/{id}/recommendations?k=10, POST /v1/recommendations (with a session's events), /healthz, /metrics.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var cacheOptions: CacheOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 8080
    @Option(help: "Answer only the users of shard I of N (I/N, 0-based; docs/sharding.md); others get 421 naming their shard.") var shard = Shard.all
    @Option(help: ArgumentHelp("Write one line per request to FILE (appended; -: standard output).", valueName: "FILE")) var accessLog: String?
    @Option(help: "Log lines as text, or as one JSON object per line (errors on stderr and the access log).") var logFormat = ServerLog.Format.text

    func run() async throws {
        try BLASLibrary.load()  // a clear error now rather than a stop at the first product
        let recommender = try Recommender(databaseURL: global.database.url, cachePath: cacheOptions.path(global))
        let log = ServerLog(format: logFormat, access: try accessLog.map(ServerLog.file))
        let server = RecommendationServer(recommender: recommender, shard: shard, log: log)
        try await server.run(host: host, port: port) { bound in
            log.notice("serving on http://\(host):\(bound)" + (shard.count > 1 ? ", shard \(shard)" : ""))
        }
    }
}

extension ServerLog.Format: ExpressibleByArgument {}
