import ArgumentParser
import Foundation
import PleatCore
import PleatTensor
import PleatPipeline
import PleatStorage

/// `pleat jobs`: scheduled jobs (jobs/*.yaml) and their recorded runs.
struct Jobs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run scheduled jobs and show their runs.", subcommands: [RunJob.self, Status.self])

    struct RunJob: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a job once: ingest, train when there is new data, evaluate, promote if not worse.",
            discussion: """
                NAME is a job in --jobs-dir (NAME.yaml) or a path to a job file. Only one run of a job goes at a time \
                (a PostgreSQL advisory lock): a second one records itself as skipped and exits 0, or waits with --wait. \
                Exit code 1 when the last attempt failed.
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var cacheOptions: CacheOptions
        @Argument(help: "Job name or file.") var name: String
        @Option(help: "Directory of job files.") var jobsDir = "jobs"
        @Flag(help: "Wait for a run in progress instead of exiting.") var wait = false
        @Flag(help: "End with one JSON line: the run's outcome.") var json = false

        func run() throws {
            try BLASLibrary.load()  // a clear error now rather than a stop at the first product
            let file = name.hasSuffix(".yaml") || name.hasSuffix(".yml") ? name : "\(jobsDir)/\(name).yaml"
            guard FileManager.default.fileExists(atPath: file) else { throw ValidationError("no job file \(file)") }
            let job = try loadDefinition { try JobDefinition.load(file) }
            let db = try global.readyDatabase()
            var runner = JobRunner(job, home: global.pleatHome)
            (runner.wait, runner.log, runner.pipeline.log, runner.pipeline.cachePath) = (wait, note, note, cacheOptions.path(global))
            let outcome = try runner.run(db: db, databaseURL: global.database.url)
            if json { try printJSONLine(outcome) } else { print("\(outcome.status.rawValue): \(outcome.message)") }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent job runs, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this job.") var job: String?
        @Option(help: "How many runs.") var limit = 20
        @Flag(help: "Print one JSON array.") var json = false

        func run() throws {
            let runs = try JobRunLog(try global.database.connect()).recent(job: job, limit: limit)
            if json { return print(String(decoding: try JSONEncoder.snakeCase().encode(runs), as: UTF8.self)) }
            guard !runs.isEmpty else { return print("no job runs recorded yet: run `pleat jobs run nightly-train`") }
            var table = TextTable(["run", "job", "try", "status", "started", "time", "promoted", "what happened"])
            for r in runs {
                table.add([String(r.id), r.job, String(r.attempt), r.status.rawValue, r.startedAt, r.seconds.map(Format.duration) ?? "running",
                           r.promoted ?? "", String((r.error ?? r.message ?? "").prefix(100))])
            }
            print(table.render())
        }
    }
}
