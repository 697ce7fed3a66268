import Foundation

/// Turns records of one file into `EventFields`, or into a `RowRejection` saying what is wrong.
final class EventParser {
    let format: InteractionFormat
    let file: String
    private let mapping: ColumnMapping
    private var splitter: FieldSplitter
    private var columns: ColumnMapping.Resolved?
    private var separatorChosen: Bool
    private var jsonKeys: JSONKeys?

    /// The event type of rows without an event column.
    private(set) var defaultEvent = "interaction"

    init(format: InteractionFormat, mapping: ColumnMapping, file: String) {
        self.format = format
        self.mapping = mapping
        self.file = file
        switch format {
        case .csv: splitter = FieldSplitter(.byte(UInt8(ascii: ","), quoted: true))
        case .tsv, .recbole: splitter = FieldSplitter(.byte(0x09, quoted: false))
        case .movielens, .pairs, .jsonl: splitter = FieldSplitter(.whitespace)
        }
        separatorChosen = format != .movielens
        switch format {
        case .movielens:
            // user, item, rating, time: the layout of both ratings.dat and u.data.
            columns = .init(user: 0, item: 1, time: 3, event: nil, value: 2, fieldCount: 4,
                            names: ["user", "item", "rating", "timestamp"], eventNameFromValueColumn: "rating")
            defaultEvent = "rating"
        case .pairs:
            columns = .init(user: 0, item: 1, time: nil, event: nil, value: nil, fieldCount: 2,
                            names: ["user", "item"], eventNameFromValueColumn: nil)
        default: break
        }
    }

    var needsHeader: Bool { format.hasHeader }

    /// Reads the header record; errors here stop the whole ingest (the file is not what was said).
    func readHeader(_ record: UnsafeBufferPointer<UInt8>) throws {
        guard ByteParsing.isValidUTF8(record) else { throw IngestError("\(file): the header line is not valid UTF-8") }
        _ = splitter.split(record)
        let names = splitter.fields.map { String(decoding: $0, as: UTF8.self) }
        let resolved = try mapping.resolve(header: names, needsTime: !format.usesOrdinalTime, file: file)
        if let name = resolved.eventNameFromValueColumn, resolved.event == nil { defaultEvent = name }
        columns = resolved
    }

    /// Parses one data record, calling `body` with its fields when it is valid.
    func parse(line: Int, record: UnsafeBufferPointer<UInt8>, _ body: (EventFields) throws -> Void) throws -> RowRejection? {
        guard ByteParsing.isValidUTF8(record) else { return RowRejection(.invalidUTF8) }
        if format == .jsonl { return try parseJSON(line: line, record: record, body) }
        if !separatorChosen {
            let isDat = zip(record, record.dropFirst()).contains { $0 == 0x3A && $1 == 0x3A }
            splitter = FieldSplitter(isDat ? .doubleColon : .whitespace)
            separatorChosen = true
        }
        guard splitter.split(record) else { return RowRejection(.unterminatedQuote) }
        guard let c = columns else { throw IngestError("\(file): no header read") }
        let fields = splitter.fields
        guard fields.count == c.fieldCount else {
            return RowRejection(.wrongColumnCount, "expected \(c.fieldCount), found \(fields.count)")
        }
        return try build(fields: fields, columns: c, line: line, body)
    }

    private func build(fields: [UnsafeBufferPointer<UInt8>], columns c: ColumnMapping.Resolved, line: Int,
                       _ body: (EventFields) throws -> Void) throws -> RowRejection? {
        let user = ByteParsing.trimmed(fields[c.user])
        guard !user.isEmpty else { return RowRejection(.emptyId, "user id in column \(c.names[c.user])") }
        let item = ByteParsing.trimmed(fields[c.item])
        guard !item.isEmpty else { return RowRejection(.emptyId, "item id in column \(c.names[c.item])") }
        let micros: Int64
        if let t = c.time {
            guard let parsed = ByteParsing.timestamp(fields[t]) else {
                return RowRejection(.badTime, "'\(String(decoding: fields[t].prefix(40), as: UTF8.self))' in column \(c.names[t])")
            }
            micros = parsed
        } else {
            micros = Int64(line) * 1_000_000  // ordinal time: second N of 1970 is line N
        }
        var value: Float? = nil
        if let v = c.value, !ByteParsing.trimmed(fields[v]).isEmpty {
            guard let parsed = ByteParsing.float(fields[v]) else {
                return RowRejection(.badValue, "'\(String(decoding: fields[v].prefix(40), as: UTF8.self))' in column \(c.names[v])")
            }
            value = parsed
        }
        var event: UnsafeBufferPointer<UInt8>? = nil
        if let e = c.event {
            let name = ByteParsing.trimmed(fields[e])
            guard !name.isEmpty else { return RowRejection(.missingField, "event type in column \(c.names[e])") }
            event = name
        }
        try body(EventFields(user: user, item: item, unixMicros: micros, event: event, value: value))
        return nil
    }

    // MARK: JSON Lines

    private struct JSONKeys { var user: String; var item: String; var time: String; var event: String?; var value: String? }

    private func parseJSON(line: Int, record: UnsafeBufferPointer<UInt8>, _ body: (EventFields) throws -> Void) throws -> RowRejection? {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(buffer: record)) as? [String: Any] else {
                return RowRejection(.badJSON, "not an object")
            }
            object = parsed
        } catch {
            return RowRejection(.badJSON, "\((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? "syntax error")")
        }
        if jsonKeys == nil {
            let keys = Array(object.keys).sorted()
            let resolved = try mapping.resolve(header: keys, needsTime: true, file: file)
            jsonKeys = JSONKeys(user: keys[resolved.user], item: keys[resolved.item], time: keys[resolved.time!],
                                event: resolved.event.map { keys[$0] }, value: resolved.value.map { keys[$0] })
            if let name = resolved.eventNameFromValueColumn, resolved.event == nil { defaultEvent = name }
        }
        let keys = jsonKeys!
        var texts: [String] = []
        var names = [keys.user, keys.item, keys.time]
        if let e = keys.event { names.append(e) }
        if let v = keys.value { names.append(v) }
        for name in names {
            switch object[name] {
            case let s as String: texts.append(s)
            case let n as NSNumber: texts.append(Self.text(of: n))
            case nil, is NSNull:
                if name == keys.value { texts.append(""); continue }
                return RowRejection(.missingField, "key '\(name)'")
            default: return RowRejection(.missingField, "key '\(name)' is not a string or number")
            }
        }
        // Reuse the delimited path: the texts become fields in mapping order.
        let joined = texts.joined(separator: "\u{1F}")
        var storage = Array(joined.utf8)
        return try storage.withUnsafeMutableBufferPointer { buffer -> RowRejection? in
            let splitter = FieldSplitter(.byte(0x1F, quoted: false))
            _ = splitter.split(UnsafeBufferPointer(buffer))
            var c = ColumnMapping.Resolved(user: 0, item: 1, time: 2, event: nil, value: nil, fieldCount: names.count,
                                           names: names, eventNameFromValueColumn: nil)
            var next = 3
            if keys.event != nil { c.event = next; next += 1 }
            if keys.value != nil { c.value = next }
            return try build(fields: splitter.fields, columns: c, line: line, body)
        }
    }

    private static func text(of number: NSNumber) -> String {
        let d = number.doubleValue
        if d == d.rounded(), abs(d) < 9e15 { return String(Int64(d)) }
        return String(d)
    }
}
