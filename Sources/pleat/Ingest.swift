import ArgumentParser
import Foundation
import PleatCore
import PleatIngest

extension InteractionFormat: ExpressibleByArgument {}

/// `pleat ingest FILE`: loads an interaction log into PostgreSQL as one atomic, idempotent batch.
struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load an interaction log (and item metadata) into PostgreSQL.",
        discussion: """
            Exit codes: 0 all rows loaded (or file already ingested); 3 loaded, but some rows were rejected \
            (see rejected_rows); 4 aborted, too many rejected rows, nothing stored; 1 error.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Interaction file; - reads standard input (a pipe works); gzip and zstd data are read directly.")
    var file: String

    @Option(help: "File format (default: from the extension: .csv, .tsv, .jsonl, .inter, also with .gz or .zst).")
    var format: InteractionFormat?

    @Option(help: "Item metadata file (categories/genres), e.g. a RecBole .item or MovieLens u.item.")
    var items: String?

    @Option(help: "Format of the item file (default: --format).")
    var itemsFormat: InteractionFormat?

    @Option(help: "Column (or JSON key) of the user id.") var userCol: String?
    @Option(help: "Column of the item id.") var itemCol: String?
    @Option(help: "Column of the time: Unix s or ms, or ISO-8601.") var timeCol: String?
    @Option(help: "Column of the event type (optional).") var eventCol: String?
    @Option(help: "Column of a numeric value such as a rating (optional).") var valueCol: String?
    @Option(help: "Column (or JSON key) of the item file that is the item's category, the default fold key (default: category, genre, genres, ...).")
    var categoryCol: String?

    @Option(help: "Abort, storing nothing, when more than this share of rows is rejected.")
    var maxRejectRate: Double = 0.01

    @Flag(help: "Print the report as one JSON line on stdout.")
    var json = false

    func validate() throws {
        guard (0...1).contains(maxRejectRate) else { throw ValidationError("--max-reject-rate is a share between 0 and 1") }
    }

    func run() throws {
        guard let format = format ?? InteractionFormat.inferred(fromFileName: file) else {
            throw ValidationError("\(file): cannot tell its format from the name; give --format "
                               + InteractionFormat.allCases.map(\.rawValue).joined(separator: "|"))
        }
        let db = try global.database.connect()
        let options = IngestOptions(
            format: format,
            mapping: ColumnMapping(user: userCol, item: itemCol, time: timeCol, event: eventCol, value: valueCol, category: categoryCol),
            itemsFile: items, itemsFormat: itemsFormat, maxRejectRate: maxRejectRate,
            showProgress: true)
        let report = try Ingestor(db: db).ingest(file: file, options: options)
        if json { try printJSONLine(report) } else { print(Self.summary(report)) }
        switch report.status {
        case .aborted: throw ExitCode(4)
        case .committed where report.rowsRejected > 0: throw ExitCode(3)
        default: break
        }
    }

    static func summary(_ r: IngestReport) -> String {
        var lines = ["\(r.source): \(r.message ?? r.status.rawValue) (batch \(r.batchId.map(String.init) ?? "-"))"]
        guard r.status != .alreadyIngested else { return lines[0] }
        var table = TextTable(["", "count"])
        table.add(["rows read", Format.count(r.rowsRead)])
        table.add(["loaded", Format.count(r.rowsLoaded)])
        table.add(["rejected", Format.count(r.rowsRejected)])
        table.add(["duplicates", Format.count(r.duplicates)])
        table.add(["new users", Format.count(r.newUsers)])
        table.add(["new items", Format.count(r.newItems)])
        table.add(["items described", Format.count(r.itemsDescribed)])
        if r.itemRowsRejected > 0 { table.add(["item rows rejected", Format.count(r.itemRowsRejected)]) }
        table.add(["seconds", String(format: "%.2f", r.seconds)])
        table.add(["rows/s", Format.count(Int(r.rowsPerSecond))])
        lines.append(table.render())
        if !r.rejectsByKind.isEmpty {
            var reasons = TextTable(["rejected because", "rows"])
            for (kind, count) in r.rejectsByKind.sorted(by: { $0.value > $1.value }) { reasons.add([kind.rawValue, Format.count(count)]) }
            lines.append(reasons.render())
            let shown = r.firstRejects.map { "  \($0.source):\($0.line): \($0.reason): \($0.raw)" }
            lines.append("first rejected rows:\n" + shown.joined(separator: "\n")
                         + (r.rowsRejected + r.itemRowsRejected > shown.count ? "\n  … every one: SELECT line_number, reason, raw FROM rejected_rows WHERE batch_id = \(r.batchId ?? 0)" : ""))
        }
        return lines.joined(separator: "\n\n")
    }
}
