import ArgumentParser
import Foundation
import PleatCore
import PleatTraining
import PleatModel

/// `pleat models`: the model registry.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The model registry.", subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Registered models, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this model kind.") var model: ModelKind?
        @Flag(help: "Print one JSON array of the records.") var json = false

        func run() throws {
            let records = try ModelRegistry(try global.database.connect()).list(kind: model)
            if json {
                print(String(decoding: try JSONEncoder.snakeCase().encode(records), as: UTF8.self))
                return
            }
            var table = TextTable(["id", "model", "created", "epochs", "best", "valid NDCG@10", "test HR@10", "test NDCG@10", "test MRR", "train"])
            for r in records {
                table.add([r.id, r.kind.rawValue, r.createdAt ?? "", String(r.epochs), String(r.bestEpoch),
                           String(format: "%.4f", r.valid.ndcg(at: 10) ?? 0), String(format: "%.4f", r.test.hitRate(at: 10) ?? 0),
                           String(format: "%.4f", r.test.ndcg(at: 10) ?? 0), String(format: "%.4f", r.test.mrr), Format.duration(r.trainSeconds)])
            }
            print(records.isEmpty ? "no models registered yet: run `pleat train --model sasrec`" : table.render())
        }
    }
}
