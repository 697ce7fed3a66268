import Foundation

/// Reads an item metadata file: RecBole `.item`, MovieLens `movies.dat` / `u.item`, or CSV/TSV/JSONL with
/// an item column and a category or genres column. The first genre is the item's category.
struct ItemCatalogReader {
    struct ItemRecord {
        var externalId: String
        var title: String?
        var genres: [String]
    }

    let path: String
    let format: InteractionFormat
    let itemColumn: String?
    /// The column chosen as the category (nil: the first of `categoryNames`).
    var categoryColumn: String? = nil

    static let categoryNames = ["category", "categories", "genre", "genres", "class", "cat", "category_id"]
    static let titleNames = ["title", "movie_title", "name"]
    /// The genre flags of MovieLens-100K `u.item`, in column order.
    static let movieLens100KGenres = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
                                      "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                                      "Romance", "Sci-Fi", "Thriller", "War", "Western"]

    /// Calls `item` for each valid record and `reject` for each bad one.
    func read(item: (ItemRecord) throws -> Void, reject: (Int, UnsafeBufferPointer<UInt8>, RowRejection) throws -> Void) throws {
        let reader = RecordReader(path: path, quoteAware: format == .csv)
        var layout: Layout? = nil
        var header = format.hasHeader
        try reader.forEachRecord { line, record in
            guard ByteParsing.isValidUTF8(record) else { try reject(line, record, RowRejection(.invalidUTF8)); return }
            let text = String(decoding: record, as: UTF8.self)
            if header {
                header = false
                layout = try Layout(header: fields(text, separator: separator(for: text)), itemColumn: itemColumn,
                                    categoryColumn: categoryColumn, file: path)
                return
            }
            do {
                if let parsed = try parse(text, layout: layout) { try item(parsed) }
            } catch let rejection as RowRejectionError {
                try reject(line, record, rejection.rejection)
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

        init(header: [String], itemColumn: String?, categoryColumn: String?, file: String) throws {
            let names = header.map { $0.split(separator: ":").first.map(String.init)?.lowercased() ?? "" }
            let wanted = itemColumn.map { [$0.lowercased()] } ?? ColumnMapping.itemNames
            guard let item = wanted.lazy.compactMap({ names.firstIndex(of: $0) }).first else {
                throw IngestError("\(file): no item id column (columns: \(header.joined(separator: ", ")))")
            }
            self.item = item
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

    private func parse(_ text: String, layout: Layout?) throws -> ItemRecord? {
        func fail(_ kind: RowRejection.Kind, _ detail: String = "") -> RowRejectionError { RowRejectionError(rejection: RowRejection(kind, detail)) }
        switch format {
        case .movielens:
            let parts = fields(text, separator: separator(for: text))
            if text.contains("::") {  // movies.dat: id::title::Genre|Genre
                guard parts.count == 3 else { throw fail(.wrongColumnCount, "expected 3, found \(parts.count)") }
                return try record(parts[0], parts[1], parts[2].split(separator: "|").map(String.init), fail)
            }
            // u.item: id|title|release|video release|url|19 genre flags
            guard parts.count == 5 + Self.movieLens100KGenres.count else {
                throw fail(.wrongColumnCount, "expected \(5 + Self.movieLens100KGenres.count), found \(parts.count)")
            }
            let genres = zip(parts[5...], Self.movieLens100KGenres).filter { $0.0 == "1" }.map(\.1)
            return try record(parts[0], parts[1], genres, fail)
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
            return try record("\(rawId)", title, genres, fail)
        default:
            guard let layout else { throw IngestError("\(path): no header read") }
            let parts = fields(text, separator: separator(for: text))
            guard parts.count == layout.count else { throw fail(.wrongColumnCount, "expected \(layout.count), found \(parts.count)") }
            let genres = layout.category.map { splitGenres(parts[$0], onSpaces: layout.splitOnSpaces) } ?? []
            return try record(parts[layout.item], layout.title.map { parts[$0] }, genres, fail)
        }
    }

    private func splitGenres(_ text: String, onSpaces: Bool) -> [String] {
        let separators: Set<Character> = onSpaces ? [" ", "|"] : ["|"]
        return text.split(whereSeparator: { separators.contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private func record(_ id: String, _ title: String?, _ genres: [String], _ fail: (RowRejection.Kind, String) -> RowRejectionError) throws -> ItemRecord {
        let trimmed = id.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw fail(.emptyId, "item id") }
        return ItemRecord(externalId: trimmed, title: title?.trimmingCharacters(in: .whitespaces), genres: genres)
    }
}
