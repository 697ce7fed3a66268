import ArgumentParser

@main
struct Pleat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pleat",
        abstract: "Sequential recommendation: ingest interaction logs, train sequence encoders, score and evaluate.",
        subcommands: [DB.self, Ingest.self, Stats.self, Synth.self, Train.self, Models.self, Bench.self])
}
