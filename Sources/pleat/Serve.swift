import ArgumentParser
import Foundation
import PleatScoring
import PleatServer
import PleatTensor

/// `pleat serve`: the HTTP endpoint.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve recommendations over HTTP: GET /v1/users/{id}/recommendations?k=10, /healthz, /metrics.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var cacheOptions: CacheOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 8080

    func run() async throws {
        try BLASLibrary.load()  // a clear error now rather than a stop at the first product
        let recommender = try Recommender(databaseURL: global.database.url, cachePath: cacheOptions.path(global))
        let server = RecommendationServer(recommender: recommender)
        try await server.run(host: host, port: port) { bound in note("serving on http://\(host):\(bound)") }
    }
}
