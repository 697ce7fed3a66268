import Foundation
import PleatCore
import PleatStorage
import PleatTestSupport

/// A fresh database, a directory with a walks interaction file (users u0…u199 over items i0…i99, as in
/// WalkFixture), and helpers to write pipeline and job files over it and to run `pleat` on them.
struct PipelineFixture {
    let url: String
    let db: PostgresConnection
    let directory: URL
    var home: PleatHome { PleatHome(path: directory.appendingPathComponent("home").path) }

    init() throws {
        url = try TestDatabase.fresh()
        db = try PostgresConnection(url: url)
        directory = try TestDatabase.scratchDirectory()
        try Self.walks(users: 0..<200, start: 1_000).write(to: directory.appendingPathComponent("walks.csv"), atomically: true, encoding: .utf8)
    }

    static func walks(users: Range<Int>, start: Int, seed: UInt64 = 5) -> String {
        var rng = RandomSource(seed: seed)
        var csv = "user_id,item_id,timestamp\n"
        for user in users {
            let first = rng.below(100)
            for t in 0..<20 { csv += "u\(user),i\(rng.uniform() < 0.1 ? rng.below(100) : (first + t) % 100),\(start + 10 * t)\n" }
        }
        return csv
    }

    /// Small, fast model settings as pipeline YAML.
    static func models(_ kinds: [String], epochs: Int, learningRate: Double = 0.003) -> String {
        "models:\n" + kinds.map { kind in
            """
              - model: \(kind)
                settings:
                  epochs: \(epochs)
                  patience: \(epochs)
                  batch_size: 32
                  max_length: 24
                  seed: 7
                  learning_rate: \(learningRate)
                  \(kind).encoder: {dimension: 32, blocks: 1}

            """
        }.joined()
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `pleat ARGS` on this database and home, output to a file; not yet waited for.
    func launch(_ arguments: [String]) throws -> (process: Process, output: URL) {
        let process = Process(), output = directory.appendingPathComponent("out-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        process.executableURL = TestDatabase.pleatExecutable
        process.arguments = arguments
        process.currentDirectoryURL = TestDatabase.repositoryRoot
        process.environment = ProcessInfo.processInfo.environment.merging(["PLEAT_DATABASE_URL": url, "PLEAT_HOME": home.url.path]) { $1 }
        let handle = try FileHandle(forWritingTo: output)
        (process.standardOutput, process.standardError) = (handle, handle)
        try process.run()
        return (process, output)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
