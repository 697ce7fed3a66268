import Foundation
import PleatIngest

/// What every parser must do with any input: each non-blank record after the header gives exactly one
/// event or one rejection (`sequences`: one or more events, or one rejection and nothing else), carrying
/// the record's first line; records cover every non-blank line; every
/// event it lets through is within the ingest limits; and it never traps. A violation is described in
/// the thrown error; the fuzz driver aborts on it, the replay driver reports it.
enum ParserCheck {
    enum Target: String, CaseIterable {
        case csv, tsv, jsonl, movielens, recbole, pairs, sequences
        /// Item catalogues; the first input byte picks the format (csv, tsv, jsonl, movielens, recbole).
        case items
    }

    struct Violation: Error, CustomStringConvertible { let description: String }
    struct Outcome { let line: Int; let isEvent: Bool }

    /// A small buffer and record limit: the same code paths as the ingest's 4 MiB and 1 MiB, reachable
    /// by inputs of a few kilobytes (records longer than the limit, records across chunk boundaries).
    static let chunk = 4_096, maxRecord = 1_000

    static func run(_ target: Target, _ data: [UInt8]) throws {
        var records: [Span] = []
        var outcomes: [Outcome] = []  // each event or rejection, in order
        var input = data
        let format: InteractionFormat
        var threw: Error?
        if target == .items {
            guard let first = data.first else { return }
            let formats: [InteractionFormat] = [.csv, .tsv, .jsonl, .movielens, .recbole]
            format = formats[Int(first) % formats.count]
            input = Array(data.dropFirst())
            let reader = ItemCatalogReader(input: InputFile(bytes: input, name: "fuzz"), format: format, chunkSize: chunk, maxRecord: maxRecord)
            do {
                try reader.read(observe: { records.append(Span(line: $0.line, lineCount: $0.lineCount)) }, item: { item in
                    try checkId(item.externalId, "item id")
                    guard let record = records.last else { throw Violation(description: "\(target): an item before any record") }
                    outcomes.append(Outcome(line: record.line, isEvent: true))
                    return nil
                }, reject: { line, _, _ in outcomes.append(Outcome(line: line, isEvent: false)) })
            } catch let violation as Violation { throw violation } catch { threw = error }
        } else if let interactions = InteractionFormat(rawValue: target.rawValue) {
            format = interactions
            let reader = InteractionReader(input: InputFile(bytes: input, name: "fuzz"), format: format, chunkSize: chunk, maxRecord: maxRecord)
            do {
                try reader.read(observe: { records.append(Span(line: $0.line, lineCount: $0.lineCount)) }, event: { line, event in
                    try checkEvent(event)
                    outcomes.append(Outcome(line: line, isEvent: true))
                    return nil
                }, reject: { line, _, _ in outcomes.append(Outcome(line: line, isEvent: false)) })
            } catch let violation as Violation { throw violation } catch { threw = error }
        } else {
            throw Violation(description: "\(target) names no input format")
        }
        let compressed = input.starts(with: [0x1F, 0x8B]) || input.starts(with: [0x28, 0xB5, 0x2F, 0xFD])
        let hasHeader = [.csv, .tsv, .recbole].contains(format)
        let data = hasHeader ? Array(records.dropFirst()) : records
        if let threw {
            // Only the input as a whole may stop the read: a bad header, or corrupt compressed data.
            guard data.isEmpty || compressed else {
                throw Violation(description: "\(target) threw after \(data.count) data records: \(threw)")
            }
            if data.isEmpty { return }
        }
        // Outcomes in runs of one line each, one run per record.
        var runs: [[Outcome]] = []
        for outcome in outcomes {
            if let last = runs.last?.last, last.line == outcome.line, target == .sequences { runs[runs.count - 1].append(outcome) } else { runs.append([outcome]) }
        }
        guard runs.count == data.count else {
            throw Violation(description: "\(target): \(data.count) data records gave \(runs.count) outcomes (\(outcomes.count) events and rejections)")
        }
        for (record, run) in zip(data, runs) {
            if run[0].line != record.line {
                throw Violation(description: "\(target): the record at line \(record.line) was reported at line \(run[0].line)")
            }
            if run.count > 1 && run.contains(where: { !$0.isEvent }) {
                throw Violation(description: "\(target): the record at line \(record.line) gave events and a rejection")
            }
        }
        if !compressed { try checkCoverage(records, of: input, target: target) }
    }

    /// Records start in increasing order, do not overlap, and cover every non-blank physical line.
    private static func checkCoverage(_ records: [Span], of input: [UInt8], target: Target) throws {
        var covered = Set<Int>(), previousEnd = 1
        for record in records {
            guard record.line >= previousEnd, record.lineCount >= 1 else {
                throw Violation(description: "\(target): record at line \(record.line) overlaps the one before (ends at \(previousEnd))")
            }
            previousEnd = record.line + record.lineCount
            for line in record.line..<previousEnd { covered.insert(line) }
        }
        var line = 1
        for physical in input.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let blank = physical.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            // A lone "\r" before the newline is removed; other content makes the line a record.
            if !blank && !covered.contains(line) {
                throw Violation(description: "\(target): non-blank line \(line) belongs to no record")
            }
            line += 1
        }
    }

    private static func checkEvent(_ event: EventFields) throws {
        try checkId(event.user, "user id")
        try checkId(event.item, "item id")
        if let name = event.event { try checkId(name, "event type") }
        guard (IngestLimits.earliestMicros...IngestLimits.latestMicros).contains(event.unixMicros) else {
            throw Violation(description: "an event at \(event.unixMicros) µs passed the time limits")
        }
        if let value = event.value, !value.isFinite { throw Violation(description: "an event with value \(value) passed") }
    }

    private static func checkId(_ id: UnsafeBufferPointer<UInt8>, _ role: String) throws {
        if let problem = RowRejection.forId(id, role, column: "?") {
            throw Violation(description: "a \(role) that breaks the rules passed: \(problem.reason)")
        }
    }

    private static func checkId(_ id: String, _ role: String) throws {
        var copy = id
        try copy.withUTF8 { try checkId($0, role) }
    }

    /// Where a record is (records point into the reader's buffer; only their place is kept).
    struct Span { let line: Int, lineCount: Int }
}
