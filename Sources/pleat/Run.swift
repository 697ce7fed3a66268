import ArgumentParser
import Foundation
import PleatPipeline
import PleatTensor

/// `pleat run PIPELINE.yaml`: ingest -> train -> score -> evaluate, as the file says.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a pipeline file end to end: ingest its sources, train its models, evaluate, score and serve if promoted.",
        discussion: """
            The whole file is checked first (unknown keys, invalid values, missing files, training settings); \
            problems are listed with file, line, key and reason, and nothing runs (exit code 2). The scored model's lists \
            are served only if it is promoted (its `promotion:` rule); --force serves them anyway, recorded. See pipelines/README.md.
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The pipeline file (YAML).") var pipeline: String
    @Flag(help: "Only check the file.") var check = false
    @Flag(help: "Serve the scored model's lists even when the promotion rule keeps it out (recorded).") var force = false
    @Flag(help: "End with one JSON line: what each stage did.") var json = false

    func run() throws {
        try BLASLibrary.load()  // a clear error now rather than a stop at the first product
        let definition = try loadDefinition { try PipelineDefinition.load(pipeline) }
        if check { return print("\(pipeline): ok (\(definition.sources.count) source(s), \(definition.models.count) model(s))") }
        let db = try global.readyDatabase()
        var runner = PipelineRunner(definition, home: global.pleatHome)
        (runner.log, runner.force) = (note, force)
        let result = try runner.run(db: db)
        if json { try printJSONLine(result) } else if let report = result.reportDirectory { print(report + "/summary.md") }
    }
}

/// Loads a pipeline or job file; its problems are printed and end the command with exit code 2.
func loadDefinition<T>(_ load: () throws -> T) throws -> T {
    do { return try load() } catch let error as DefinitionError {
        note("error: " + error.description)
        throw ExitCode(2)
    }
}
