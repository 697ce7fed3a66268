import ArgumentParser
import Foundation
import PleatCore
import PleatStorage

/// `pleat stats`: what the database holds.
struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Counts of users, items, interactions, batches and rejected rows.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print one JSON line.") var json = false

    func run() throws {
        let counts = try StoreStatistics.read(from: try global.database.connect())
        if json { try printJSONLine(counts); return }
        var table = TextTable(["", "count"])
        for (name, value) in counts.rows { table.add([name, Format.count(value)]) }
        print(table.render())
    }
}
