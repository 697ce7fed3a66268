import ArgumentParser
import Foundation
import PleatCore
import PleatTensor
import PleatEncoders
import PleatTraining
import PleatHistories
import PleatScoring
import PleatModel
import PleatMPI
import PleatBenchmarks

extension TrainStepBenchmark.Preset: ExpressibleByArgument {}
extension FoldStepBenchmark.Mode: ExpressibleByArgument {}
extension BehaviourSettings.Input: ExpressibleByArgument {}

/// `pleat bench …`: performance measurements to compare with the PyTorch reference.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks (run release builds).",
        subcommands: [TrainStep.self, Fold.self, FoldQuality.self, Recommend.self, Histories.self, GradientExchange.self])

    struct TrainStep: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train-step",
            abstract: "Time training steps of a preset from shared/bench (forward + backward + Adam).")

        @Option(help: "Configuration, as in shared/bench/torch_step.py.") var preset: TrainStepBenchmark.Preset
        @Option(help: "Timed steps (after 3 warm-up steps).") var steps = 10
        @Option(help: "Also embed a random behaviour of this many types at every position (0: id-only, as the reference).")
        var behaviours = 0
        @Option(help: ArgumentHelp("Time the whole model (SASRec or HSTU with the preset's encoder and loss) reading behaviours this way: none, embedding or interleaved.",
                                   discussion: "Default: the encoder alone, as the reference. embedding and interleaved need --behaviours."))
        var modelInput: BehaviourSettings.Input?
        @Flag(help: "Print one JSON line: preset, median_ms, min_ms, gflops, threads.") var json = false

        func run() throws {
            guard (0...BehaviourSettings.maxTypes).contains(behaviours) else {
                throw ValidationError("--behaviours must be 0 to \(BehaviourSettings.maxTypes)")
            }
            guard modelInput == nil || modelInput == BehaviourSettings.Input.none || behaviours > 0 else {
                throw ValidationError("--model-input \(modelInput!.rawValue) needs --behaviours N (N > 0)")
            }
            try BLASLibrary.load()  // a clear error now rather than a stop at the first product
            let result = try TrainStepBenchmark(preset: preset, steps: steps, behaviourTypes: behaviours, modelInput: modelInput).run(progress: !json)
            if json { try printJSONLine(result); return }
            var table = TextTable(["preset", "median ms", "min ms", "GFLOP/s", "sgemm peak", "sequences/s", "threads"])
            table.add([result.preset, String(format: "%.1f", result.medianMs), String(format: "%.1f", result.minMs),
                       String(format: "%.1f", result.gflops), String(format: "%.1f", result.sgemmPeakGflops),
                       String(format: "%.1f", result.sequencesPerS), String(result.threads)])
            print(table.render())
        }
    }

    struct GradientExchange: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gradient-exchange",
            abstract: "Under mpirun: time the averaging of each model's gradient over the ranks; --check compares it with one process's.")

        @Option(help: "Items in the catalogue (the item table is most of the gradient).") var items = 20_000
        @Option(help: "Global batch (sequences).") var batch = 64
        @Option(help: "Models (comma-separated).") var models = "sasrec,hstu,bert4rec"
        @Option(help: "Timed exchanges per model.") var repeats = 7
        @Option(help: "SASRec's loss (ce, bce, gbce, sampled_softmax; default: the training default).") var sasrecLoss: String?
        @Flag(help: "Also compute the single-process gradient of the same global batch on rank 0 and report the difference.") var check = false

        func run() throws {
            try BLASLibrary.load()
            let communicator = try Communicator.world()
            var benchmark = GradientExchangeBenchmark(communicator: communicator)
            (benchmark.items, benchmark.batchSize, benchmark.repeats) = (items, batch, repeats)
            if let sasrecLoss {
                guard let loss = SASRecSettings.Loss(rawValue: sasrecLoss) else { throw ValidationError("unknown loss \(sasrecLoss)") }
                benchmark.sasrecLoss = loss
            }
            for name in models.split(separator: ",") {
                guard let kind = ModelKind(rawValue: String(name)) else { throw ValidationError("unknown model \(name)") }
                let result = benchmark.run(model: kind, check: check)
                if communicator.rank == 0 { try printJSONLine(result) }
            }
        }
    }

    struct Fold: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time HSTU training steps on long histories: folded, or brute-force attention over all of it.")

        @Option(help: "Events per user history.") var events: Int
        @Option(help: "folded or full.") var mode: FoldStepBenchmark.Mode
        @Option(help: "Users per batch.") var batch = 2
        @Option(help: "Timed steps (after one warm-up step).") var steps = 5
        @Flag(help: "Print one JSON line: mode, events, batch, median_ms, peak_rss_mb.") var json = false

        func run() throws {
            try BLASLibrary.load()  // a clear error now rather than a stop at the first product
            let result = FoldStepBenchmark(events: events, mode: mode, batch: batch, steps: steps).run()
            if json { try printJSONLine(result); return }
            print("\(result.mode) \(result.events) events: \(String(format: "%.1f", result.medianMs)) ms/step, peak RSS \(Int(result.peakRssMb)) MB")
        }
    }

    struct FoldQuality: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fold-quality",
            abstract: "Folded HSTU against HSTU on the last 200 events, on synthetic returns after more than 1,000 events.")

        @Option(help: "Epochs for each model.") var epochs = 100
        @Option(help: "Training seed.") var seed: UInt64 = 7
        @Flag(help: "Print one JSON line.") var json = false

        func run() throws {
            try BLASLibrary.load()  // a clear error now rather than a stop at the first product
            let result = try FoldQualityBenchmark(epochs: epochs, seed: seed).run(log: json ? { _ in } : { note($0) })
            if json { try printJSONLine(result); return }
            print(String(format: "validation NDCG@10: folded %.4f, last 200 events only %.4f (%.0f s)",
                         result.foldedValidNdcg10, result.windowOnlyValidNdcg10, result.seconds))
        }
    }

    struct Recommend: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "In-process latency of recommend: cache hits, live scoring after the user's entry is deleted, and live scoring with recent events.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var cacheOptions: CacheOptions
        @Option(name: .customLong("cache-requests")) var cacheRequests = 20_000
        @Option(name: .customLong("live-requests")) var liveRequests = 300
        @Option(name: .customLong("session-requests")) var sessionRequests = 300
        @Option(name: .customLong("recent-events"), help: "Items each session request brings.") var recentEvents = 5
        @Option(help: "Their event type (default: the database's only one, or interaction).") var recentEvent: String?
        @Flag(help: "Print one JSON line.") var json = false

        func run() throws {
            try BLASLibrary.load()  // a clear error now rather than a stop at the first product
            var benchmark = RecommendBenchmark()
            (benchmark.cacheRequests, benchmark.liveRequests) = (cacheRequests, liveRequests)
            (benchmark.sessionRequests, benchmark.recentEvents, benchmark.recentEventType) = (sessionRequests, recentEvents, recentEvent)
            let r = try benchmark.run(databaseURL: global.database.url, cachePath: cacheOptions.path(global))
            if json { try printJSONLine(r); return }
            var table = TextTable(["path", "requests", "p50 ms", "p99 ms"])
            table.add(["cache hit", String(r.cacheRequests), String(format: "%.3f", r.cacheP50Ms), String(format: "%.3f", r.cacheP99Ms)])
            table.add([String(format: "live (%.0f events)", r.liveMeanHistory), String(r.liveRequests),
                       String(format: "%.3f", r.liveP50Ms), String(format: "%.3f", r.liveP99Ms)])
            table.add(["live + \(r.sessionRecentEvents) recent events", String(r.sessionRequests),
                       String(format: "%.3f", r.sessionP50Ms), String(format: "%.3f", r.sessionP99Ms)])
            print(table.render())
        }
    }

    struct Histories: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time reading every user's history (or one shard's) from PostgreSQL, as training and scoring do.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only the users of shard I of N.") var shard = Shard.all
        @Option(help: "Connections reading partitions at once.") var readers = HistoryLoader.defaultReaders
        @Flag(help: "Print one JSON line.") var json = false

        struct Report: Codable {
            var users: Int, events: Int, readers: Int, shard: String
            var seconds: Double, eventsPerS: Double, peakRssMb: Double
        }

        func run() throws {
            let db = try global.database.connect()
            let start = Date()
            let histories = try HistoryLoader.load(from: db, shard: shard, readers: max(1, readers))
            let seconds = Date().timeIntervalSince(start)
            let report = Report(users: histories.userCount, events: histories.eventCount, readers: readers, shard: shard.description,
                                seconds: seconds, eventsPerS: Double(histories.eventCount) / max(seconds, 1e-9),
                                peakRssMb: PeakMemory.residentMB)
            if json { return try printJSONLine(report) }
            print(String(format: "%@ events of %@ users in %.2f s (%@ events/s, %d readers); peak RSS %.0f MB", Format.count(report.events),
                         Format.count(report.users), seconds, Format.count(Int(report.eventsPerS)), readers, report.peakRssMb))
        }
    }
}
