import ArgumentParser
import Foundation
import PleatCore
import PleatIngest

/// `pleat synth`: a synthetic interaction log with planted sequential structure.
struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic interaction log (CSV) and item file with known sequential structure.",
        discussion: "Ingest the result with: pleat ingest OUT --format csv --items OUT.items.csv")

    @Option(name: .shortAndLong, help: "Interaction file to write.") var output = "synthetic.csv"
    @Option(help: "Item metadata file to write (default: OUTPUT with .items.csv).") var itemsOutput: String?
    @Option(help: "Number of users.") var users = 1_000
    @Option(help: "Number of items.") var items = 2_000
    @Option(help: "Number of item categories.") var categories = 20
    @Option(help: "Median history length (log-normal).") var medianEvents = 60
    @Option(help: "Shortest history.") var minEvents = 5
    @Option(help: "Longest history (up to 50,000).") var maxEvents = 2_000
    @Option(help: "Users (spread over the ids) with a long history, uniform in [max-events/2, max-events].") var longUsers = 0
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Flag(help: "Write a shop's funnel: views, carts of some viewed items, purchases of carted items only (never twice).")
    var funnel = false
    @Flag(help: "Print a JSON summary line.") var json = false

    func validate() throws {
        guard users > 0, categories >= 3, items >= categories else { throw ValidationError("need users > 0, categories >= 3, items >= categories") }
        guard minEvents >= 1, maxEvents >= minEvents, maxEvents <= 50_000 else { throw ValidationError("need 1 <= min-events <= max-events <= 50,000") }
        guard (0...users).contains(longUsers) else { throw ValidationError("need 0 <= long-users <= users") }
    }

    func run() throws {
        var settings = SyntheticLog.Settings()
        settings.users = users; settings.items = items; settings.categories = categories
        settings.medianEvents = medianEvents; settings.minEvents = minEvents; settings.maxEvents = maxEvents
        (settings.seed, settings.longUsers, settings.funnel) = (seed, longUsers, funnel)
        let itemsPath = itemsOutput ?? (output.hasSuffix(".csv") ? String(output.dropLast(4)) : output) + ".items.csv"
        let result = try SyntheticLog(settings: settings).write(interactions: output, items: itemsPath, progress: !json)
        if json { try printJSONLine(result) } else {
            print("wrote \(Format.count(result.events)) events of \(Format.count(result.users)) users to \(output), \(Format.count(result.items)) items to \(itemsPath)")
        }
    }
}
