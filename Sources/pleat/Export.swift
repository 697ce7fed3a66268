import ArgumentParser
import Foundation
import PleatCore
import PleatScoring
import PleatStorage

extension RecommendationExport.FileFormat: ExpressibleByArgument {}

/// `pleat export …`: what Pleat serves, as files for other systems.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write what Pleat serves to files for other systems.",
        subcommands: [Recommendations.self])

    struct Recommendations: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every list of the serving model in the recommendation cache, as CSV or JSON lines.",
            discussion: """
                CSV: one row per recommended item, user_id,event,rank,item_id,score,model_id,computed_at. JSON lines: one \
                object per list (user, event, model_id, computed_at, history_until, items). The lists are those a cache hit \
                answers (`pleat recommend`, the server), read as a stream.
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var cacheOptions: CacheOptions
        @Option(help: "csv or jsonl (default: from --output's extension, else csv).") var format: RecommendationExport.FileFormat?
        @Option(help: "The file to write (replaced when complete); - or none: standard output.") var output: String?
        @Flag(help: "With --output: print one JSON object (file, format, lists, model_id) instead of the note.") var json = false

        func validate() throws {
            guard !json || (output != nil && output != "-") else { throw ValidationError("--json describes the file --output writes: give --output FILE") }
        }

        struct Summary: Encodable { var file: String, format: String, lists: Int, modelId: String }

        func run() throws {
            let cache = try RecommendationCache(path: cacheOptions.path(global))
            guard let active = try cache.activeSet() else {
                throw ValidationError("the cache at \(cache.path) serves no model yet: run `pleat score` first")
            }
            let chosen = format ?? (output.map { $0.hasSuffix(".jsonl") } == true ? .jsonl : .csv)
            guard let output, output != "-" else {
                try RecommendationExport.write(cache, format: chosen, to: .standardOutput)
                return
            }
            let partial = output + ".partial"
            FileManager.default.createFile(atPath: partial, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: partial) else { throw ValidationError("cannot write \(partial)") }
            let lists = try RecommendationExport.write(cache, format: chosen, to: handle)
            try handle.synchronize()
            try handle.close()
            _ = try? FileManager.default.removeItem(atPath: output)
            try FileManager.default.moveItem(atPath: partial, toPath: output)
            if json { return try printJSONLine(Summary(file: output, format: chosen.rawValue, lists: lists, modelId: active.modelId)) }
            note("exported \(Format.count(lists)) lists of \(active.modelId) to \(output)")
        }
    }
}
