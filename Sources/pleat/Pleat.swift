import ArgumentParser

@main
struct Pleat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pleat",
        abstract: "Sequential recommendation: ingest interaction logs, train sequence encoders, score and evaluate.",
        subcommands: [DB.self, Doctor.self, Ingest.self, Stats.self, Synth.self, Train.self, Models.self, Score.self, Recommend.self, Serve.self, Evaluate.self, Run.self, Jobs.self, Bench.self])
}
