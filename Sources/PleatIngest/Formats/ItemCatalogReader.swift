import Foundation
import PleatCore

/// Reads an item metadata file: RecBole `.item`, MovieLens `movies.dat` / `u.item`, or CSV/TSV/JSONL with
/// an item column and a category or genres column. The first genre is the item's category.
public struct ItemCatalogReader {
    public struct ItemRecord: Sendable {
        public var externalId: String
        public var title: String?
        public var genres: [String]
    }

    let input: InputFile
    let format: InteractionFormat
    let itemColumn: String?
    /// The column chosen as the category (nil: the first of `categoryNames`).
    var categoryColumn: String? = nil

    /// The reader's buffer and record limit (see `InteractionReader`).
    var chunkSize = 4 << 20, maxRecord = IngestLimits.maxRecordBytes

    public init(input: InputFile, format: InteractionFormat, itemColumn: String? = nil, categoryColumn: String? = nil,
                chunkSize: Int = 4 << 20, maxRecord: Int = IngestLimits.maxRecordBytes) {
        (self.input, self.format, self.itemColumn, self.categoryColumn) = (input, format, itemColumn, categoryColumn)
        (self.chunkSize, self.maxRecord) = (chunkSize, maxRecord)
    }

    static let categoryNames = ["category", "categories", "genre", "genres", "class", "cat", "category_id"]
    static let titleNames = ["title", "movie_title", "name"]
    /// The genre flags of MovieLens-100K `u.item`, in column order.
    static let movieLens100KGenres = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
                                      "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                                      "Romance", "Sci-Fi", "Thriller", "War", "Western"]

    /// Calls `item` for each valid record (it may still turn it down with a rejection) and `reject` for
    /// each bad one: every non-blank record after the header gives exactly one of the two. `observe` sees
    /// every record first (the fuzz targets count them).
    public func read(observe: ((RecordReader.Record) -> Void)? = nil, item: (ItemRecord) throws -> RowRejection?,
              reject: (Int, UnsafeBufferPointer<UInt8>, RowRejection) throws -> Void) throws {
        let reader = RecordReader(input: input, quoteAware: format == .csv, chunkSize: chunkSize, maxRecord: maxRecord)
        var layout: Layout? = nil
        var header = format.hasHeader
        try reader.forEachRecord { record in
            observe?(record)
            let (line, bytes) = (record.line, record.bytes)
            if header, record.overlongBytes != nil { throw IngestError("\(input.name): the header line is longer than \(maxRecord) bytes") }
            let problem: RowRejection?
            if let length = record.overlongBytes {
                problem = RowRejection(.recordTooLong, "\(length) bytes (limit \(maxRecord)); the first \(bytes.count) are kept")
            } else if let nul = memchr(bytes.start, 0, bytes.count) {
                problem = RowRejection(.nulByte, "at byte \(bytes.start.distance(to: nul.assumingMemoryBound(to: UInt8.self)) + 1)")
            } else if !ByteParsing.isValidUTF8(bytes) {
                problem = RowRejection(.invalidUTF8)
            } else {
                problem = nil
            }
            if header {
                header = false
                if let problem { throw IngestError("\(input.name): the header line has a \(problem.reason)") }
                let text = String(decoding: bytes, as: UTF8.self)
                layout = try Layout(header: fields(text, separator: separator(for: text)), itemColumn: itemColumn,
                                    categoryColumn: categoryColumn, file: input.name)
                return
            }
            if let problem { try reject(line, bytes, problem); return }
            do {
                let parsed = try parse(String(decoding: bytes, as: UTF8.self), layout: layout)
                if let rejection = try item(parsed) { try reject(line, bytes, rejection) }
            } catch let rejection as RowRejectionError {
                try reject(line, bytes, rejection.rejection)
            }
        }
    }

    private struct RowRejectionError: Error { let rejection: RowRejection }

    private struct Layout {
        var item: Int
        var title: Int?
        var category: Int?
        var splitOnSpaces: Bool
        var count: Int
        var itemName: String

        init(header: [String], itemColumn: String?, categoryColumn: String?, file: String) throws {
            let names = header.map { $0.split(separator: ":").first.map(String.init)?.lowercased() ?? "" }
            let wanted = itemColumn.map { [$0.lowercased()] } ?? ColumnMapping.itemNames
            guard let item = wanted.lazy.compactMap({ names.firstIndex(of: $0) }).first else {
                throw IngestError("\(file): no item id column (columns: \(header.joined(separator: ", ")))")
            }
            self.item = item
            itemName = header[item]
            title = ItemCatalogReader.titleNames.lazy.compactMap { names.firstIndex(of: $0) }.first
            if let chosen = categoryColumn {
                guard let index = names.firstIndex(of: chosen.lowercased()) else {
                    throw IngestError("\(file): no category column '\(chosen)' (columns: \(header.joined(separator: ", ")))")
                }
                category = index
            } else {
                category = ItemCatalogReader.categoryNames.lazy.compactMap { names.firstIndex(of: $0) }.first
            }
            splitOnSpaces = category.map { header[$0].hasSuffix(":token_seq") } ?? false
            count = header.count
        }
    }

    private func separator(for text: String) -> Character {
        switch format {
        case .csv: return ","
        case .movielens: return text.contains("::") ? ":" : "|"
        default: return "\t"
        }
    }

    private func fields(_ text: String, separator: Character) -> [String] {
        if format == .movielens, text.contains("::") { return text.components(separatedBy: "::") }
        if format == .csv {  // small files: reuse the CSV splitter for its quoting rules
            var bytes = Array(text.utf8)
            return bytes.withUnsafeMutableBufferPointer { buffer in
                let splitter = FieldSplitter(.byte(UInt8(ascii: ","), quoted: true))
                guard splitter.split(UnsafeBufferPointer(buffer)) else { return [text] }
                return splitter.fields.map { String(decoding: $0, as: UTF8.self) }
            }
        }
        return text.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
    }

    private func parse(_ text: String, layout: Layout?) throws -> ItemRecord {
        func fail(_ kind: RowRejection.Kind, _ detail: String = "") -> RowRejectionError { RowRejectionError(rejection: RowRejection(kind, detail)) }
        switch format {
        case .movielens:
            let parts = fields(text, separator: separator(for: text))
            if text.contains("::") {  // movies.dat: id::title::Genre|Genre
                guard parts.count == 3 else { throw fail(.wrongColumnCount, "expected 3, found \(parts.count)") }
                return try record(parts[0], column: "1", parts[1], parts[2].split(separator: "|").map(String.init), fail)
            }
            // u.item: id|title|release|video release|url|19 genre flags
            guard parts.count == 5 + Self.movieLens100KGenres.count else {
                throw fail(.wrongColumnCount, "expected \(5 + Self.movieLens100KGenres.count), found \(parts.count)")
            }
            let genres = zip(parts[5...], Self.movieLens100KGenres).filter { $0.0 == "1" }.map(\.1)
            return try record(parts[0], column: "1", parts[1], genres, fail)
        case .jsonl:
            guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { throw fail(.badJSON) }
            let lowered = Dictionary(object.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
            let idKey = itemColumn?.lowercased() ?? ColumnMapping.itemNames.first { lowered[$0] != nil }
            guard let idKey, let rawId = lowered[idKey] else { throw fail(.missingField, "item id") }
            let title = Self.titleNames.lazy.compactMap { lowered[$0] as? String }.first
            var genres: [String] = []
            let categoryKeys = categoryColumn.map { [$0.lowercased()] } ?? Self.categoryNames
            if let category = categoryKeys.lazy.compactMap({ lowered[$0] }).first {
                if let list = category as? [Any] { genres = list.map { "\($0)" } } else { genres = splitGenres("\(category)", onSpaces: false) }
            }
            return try record("\(rawId)", column: idKey, title, genres, fail)
        default:
            guard let layout else { throw IngestError("\(input.name): no header read") }
            let parts = fields(text, separator: separator(for: text))
            guard parts.count == layout.count else { throw fail(.wrongColumnCount, "expected \(layout.count), found \(parts.count)") }
            let genres = layout.category.map { splitGenres(parts[$0], onSpaces: layout.splitOnSpaces) } ?? []
            return try record(parts[layout.item], column: layout.itemName, layout.title.map { parts[$0] }, genres, fail)
        }
    }

    private func splitGenres(_ text: String, onSpaces: Bool) -> [String] {
        let separators: Set<Character> = onSpaces ? [" ", "|"] : ["|"]
        return text.split(whereSeparator: { separators.contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private func record(_ id: String, column: String, _ title: String?, _ genres: [String],
                        _ fail: (RowRejection.Kind, String) -> RowRejectionError) throws -> ItemRecord {
        var trimmed = id.trimmingCharacters(in: .whitespaces)
        if let problem = trimmed.withUTF8({ RowRejection.forId($0, "item id", column: column) }) {
            throw RowRejectionError(rejection: problem)
        }
        return ItemRecord(externalId: trimmed, title: title?.trimmingCharacters(in: .whitespaces), genres: genres)
    }
}
