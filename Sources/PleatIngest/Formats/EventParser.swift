import Foundation
import PleatCore

/// Turns records of one file into `EventFields`, or into a `RowRejection` saying what is wrong.
final class EventParser {
    let format: InteractionFormat
    let file: String
    private let mapping: ColumnMapping
    private var splitter: FieldSplitter
    private var columns: ColumnMapping.Resolved?
    private var separatorChosen: Bool
    /// The keys resolved for an earlier line: lines of one file usually share their keys.
    private var jsonKeys: JSONKeys?
    private var jsonDefaultEventSet = false
    /// `sequences`: the line of each user seen so far, by a 64-bit hash of the user id (8 bytes a user;
    /// two ids colliding among 10^7 users has a chance of about 3 in a million).
    private var sequenceUsers: [UInt64: Int] = [:]

    /// The event type of rows without an event column.
    private(set) var defaultEvent = "interaction"

    init(format: InteractionFormat, mapping: ColumnMapping, file: String) {
        self.format = format
        self.mapping = mapping
        self.file = file
        switch format {
        case .csv: splitter = FieldSplitter(.byte(UInt8(ascii: ","), quoted: true))
        case .tsv, .recbole: splitter = FieldSplitter(.byte(0x09, quoted: false))
        case .movielens, .pairs, .sequences, .jsonl: splitter = FieldSplitter(.whitespace)
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

    /// Parses one data record, calling `body` with its fields when it is valid; the rejection of the
    /// record (the parser's, or the one `body` returns), or nil when it became an event.
    func parse(line: Int, record: UnsafeBufferPointer<UInt8>, _ body: (EventFields) throws -> RowRejection?) throws -> RowRejection? {
        if let nul = memchr(record.start, 0, record.count) {
            return RowRejection(.nulByte, "at byte \(record.start.distance(to: nul.assumingMemoryBound(to: UInt8.self)) + 1)")
        }
        guard ByteParsing.isValidUTF8(record) else { return RowRejection(.invalidUTF8) }
        if format == .jsonl { return try parseJSON(line: line, record: record, body) }
        if !separatorChosen {
            let isDat = zip(record, record.dropFirst()).contains { $0 == 0x3A && $1 == 0x3A }
            splitter = FieldSplitter(isDat ? .doubleColon : .whitespace)
            separatorChosen = true
        }
        guard splitter.split(record) else { return RowRejection(.unterminatedQuote) }
        if format == .sequences { return try parseSequence(line: line, fields: splitter.fields, body) }
        guard let c = columns else { throw IngestError("\(file): no header read") }
        let fields = splitter.fields
        guard fields.count == c.fieldCount else {
            return RowRejection(.wrongColumnCount, "expected \(c.fieldCount), found \(fields.count)")
        }
        return try build(fields: fields, columns: c, line: line, body)
    }

    private func build(fields: [UnsafeBufferPointer<UInt8>], columns c: ColumnMapping.Resolved, line: Int,
                       _ body: (EventFields) throws -> RowRejection?) throws -> RowRejection? {
        let user = ByteParsing.trimmed(fields[c.user])
        if let problem = RowRejection.forId(user, "user id", column: c.names[c.user]) { return problem }
        let item = ByteParsing.trimmed(fields[c.item])
        if let problem = RowRejection.forId(item, "item id", column: c.names[c.item]) { return problem }
        let micros: Int64
        if let t = c.time {
            let shown = "'\(String(decoding: fields[t].prefix(40), as: UTF8.self))' in column \(c.names[t])"
            switch ByteParsing.timestamp(fields[t]) {
            case .some(.some(let parsed)): micros = parsed
            case .some(.none): return RowRejection(.timeOutOfRange, shown + " (valid: years 0001 to 9999)")
            case .none: return RowRejection(.badTime, shown)
            }
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
            if let problem = RowRejection.forId(name, "event type", column: c.names[e]) { return problem }
            event = name
        }
        return try body(EventFields(user: user, item: item, unixMicros: micros, event: event, value: value))
    }

    // MARK: Sequences

    /// `user item item …`: every id is checked before any event is given, so a bad line loads nothing;
    /// then item j becomes an event at ordinal time j. A rejection `body` returns for an item (a limit of
    /// the database) stops the line there, naming the item.
    private func parseSequence(line: Int, fields: [UnsafeBufferPointer<UInt8>],
                               _ body: (EventFields) throws -> RowRejection?) throws -> RowRejection? {
        guard fields.count >= 2 else { return RowRejection(.missingField, "a user and at least one item") }
        let user = ByteParsing.trimmed(fields[0])
        if let problem = RowRejection.forId(user, "user id", column: "1") { return problem }
        for j in 1..<fields.count {
            if let problem = RowRejection.forId(fields[j], "item id", column: "\(j + 1)") { return problem }
        }
        let key = Self.hash(user)
        if let first = sequenceUsers[key] {
            return RowRejection(.duplicateUser, "'\(String(decoding: user.prefix(40), as: UTF8.self))' already has line \(first)")
        }
        sequenceUsers[key] = line
        for j in 1..<fields.count {
            if let rejection = try body(EventFields(user: user, item: fields[j], unixMicros: Int64(j) * 1_000_000, event: nil, value: nil)) {
                return RowRejection(rejection.kind, "item \(j) of the line: \(rejection.detail)")
            }
        }
        return nil
    }

    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 { FNV1a.hash64(bytes) }

    // MARK: JSON Lines

    private struct JSONKeys { var user: String; var item: String; var time: String; var event: String?; var value: String? }

    private func parseJSON(line: Int, record: UnsafeBufferPointer<UInt8>, _ body: (EventFields) throws -> RowRejection?) throws -> RowRejection? {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(buffer: record)) as? [String: Any] else {
                return RowRejection(.badJSON, "not an object")
            }
            object = parsed
        } catch {
            return RowRejection(.badJSON, "\((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? "syntax error")")
        }
        // Each line names its own keys. The keys found on earlier lines serve while they are all there;
        // otherwise this line's keys are resolved, and a line without a user, item or time key is a
        // rejected row, not a broken file.
        let required = jsonKeys.map { [$0.user, $0.item, $0.time] } ?? []
        let keys: JSONKeys
        if let known = jsonKeys, !required.contains(where: { object[$0] == nil }) {
            keys = known
        } else {
            let present = Array(object.keys).sorted()
            let resolved: ColumnMapping.Resolved
            do { resolved = try mapping.resolve(header: present, needsTime: true, file: file) } catch {
                if let missing = required.first(where: { object[$0] == nil }) { return RowRejection(.missingField, "key '\(missing)'") }
                return RowRejection(.missingField, "\(error)".replacingOccurrences(of: "\(file): ", with: "")
                                    .replacingOccurrences(of: "column", with: "key"))
            }
            guard let time = resolved.time else { return RowRejection(.missingField, "no key for the time") }  // needsTime: resolved
            keys = JSONKeys(user: present[resolved.user], item: present[resolved.item], time: present[time],
                            event: resolved.event.map { present[$0] }, value: resolved.value.map { present[$0] })
            jsonKeys = keys
            if !jsonDefaultEventSet {
                jsonDefaultEventSet = true
                if let name = resolved.eventNameFromValueColumn, resolved.event == nil { defaultEvent = name }
            }
        }
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
        // The texts become fields in mapping order, back to back in one buffer: no separator, so no
        // character inside a value can move a field.
        var storage = [UInt8](), ranges: [Range<Int>] = []
        for text in texts {
            let start = storage.count
            storage.append(contentsOf: text.utf8)
            ranges.append(start..<storage.count)
        }
        return try storage.withUnsafeBufferPointer { buffer -> RowRejection? in
            let fields = ranges.map { UnsafeBufferPointer(rebasing: buffer[$0]) }
            var c = ColumnMapping.Resolved(user: 0, item: 1, time: 2, event: nil, value: nil, fieldCount: names.count,
                                           names: names, eventNameFromValueColumn: nil)
            var next = 3
            if keys.event != nil { c.event = next; next += 1 }
            if keys.value != nil { c.value = next }
            return try build(fields: fields, columns: c, line: line, body)
        }
    }

    private static func text(of number: NSNumber) -> String {
        let d = number.doubleValue
        if d == d.rounded(), abs(d) < 9e15 { return String(Int64(d)) }
        return String(d)
    }
}
