import XCTest
@testable import PleatIngest

/// The byte-level parsers on the ingest hot path.
final class ParsingTests: XCTestCase {
    /// The parsed time; nil when unparsable, `.some(nil)` when out of range.
    private func parsedTime(_ text: String) -> Int64?? {
        var copy = Array(text.utf8)
        return copy.withUnsafeMutableBufferPointer { ByteParsing.timestamp(UnsafeBufferPointer($0)) }
    }

    private func time(_ text: String) -> Int64? { parsedTime(text) ?? nil }

    private func float(_ text: String) -> Float? {
        var copy = Array(text.utf8)
        return copy.withUnsafeMutableBufferPointer { ByteParsing.float(UnsafeBufferPointer($0)) }
    }

    func testTimestamps() {
        XCTAssertEqual(time("0"), 0)
        XCTAssertEqual(time("881250949"), 881_250_949_000_000)
        XCTAssertEqual(time("881250949.25"), 881_250_949_250_000)
        XCTAssertEqual(time("1714557600000"), 1_714_557_600_000_000, "milliseconds")
        XCTAssertEqual(time("2024-05-01"), 1_714_521_600_000_000)
        XCTAssertEqual(time("2024-05-01T10:00:00Z"), 1_714_557_600_000_000)
        XCTAssertEqual(time("2024-05-01T12:00:00+02:00"), 1_714_557_600_000_000)
        XCTAssertEqual(time("2024-05-01T05:30:00-0430"), 1_714_557_600_000_000)
        XCTAssertEqual(time("2024-05-01 10:00:00.5"), 1_714_557_600_500_000)
        XCTAssertEqual(time("1969-12-31T23:59:59Z"), -1_000_000)
        XCTAssertEqual(time(" 100 "), 100_000_000, "surrounding spaces are ignored")
        for bad in ["", "yesterday", "12abc", "2024-13-01", "2024-05-01T25:00", "2024-05-01X", "1.2.3", "123456789012345678"] {
            XCTAssertNil(parsedTime(bad), bad)
        }
    }

    /// Times past the documented range are told apart from garbage, and never overflow (the 17-digit
    /// value used to trap in `whole * 1_000`).
    func testTimesOutOfRangeAreNamedNotTrapped() {
        XCTAssertEqual(time("0001-01-01T00:00:00Z"), IngestLimits.earliestMicros)
        XCTAssertEqual(time("9999-12-31T23:59:59.999999Z"), IngestLimits.latestMicros)
        XCTAssertEqual(time("253402300799999"), 253_402_300_799_999_000, "the last millisecond of 9999")
        for outside in ["99999999999999999", "-99999999999999999", "253402300800000", "-99999999999", "0000-12-31T23:59:59Z",
                        "9999-12-31T23:59:59-01:00"] {
            XCTAssertNotNil(parsedTime(outside), outside)
            XCTAssertNil(parsedTime(outside)!, "\(outside) is out of range")
        }
    }

    func testDaysFromCivilMatchesKnownDates() {
        XCTAssertEqual(ByteParsing.daysFromCivil(year: 1970, month: 1, day: 1), 0)
        XCTAssertEqual(ByteParsing.daysFromCivil(year: 2000, month: 3, day: 1), 11_017)
        XCTAssertEqual(ByteParsing.daysFromCivil(year: 1900, month: 1, day: 1), -25_567)
    }

    func testFloats() {
        XCTAssertEqual(float("4"), 4)
        XCTAssertEqual(float("-3.5"), -3.5)
        XCTAssertEqual(float("+0.25"), 0.25)
        XCTAssertEqual(float("1e-3"), 0.001)
        XCTAssertNil(float("lots"))
        XCTAssertNil(float("inf"))
        XCTAssertNil(float(""))
    }

    func testFieldSplitting() {
        func split(_ sep: FieldSplitter.Separator, _ text: String) -> [String]? {
            var bytes = Array(text.utf8)
            let splitter = FieldSplitter(sep)
            return bytes.withUnsafeMutableBufferPointer { buffer in
                splitter.split(UnsafeBufferPointer(buffer)) ? splitter.fields.map { String(decoding: $0, as: UTF8.self) } : nil
            }
        }
        XCTAssertEqual(split(.byte(44, quoted: true), "a,\"b,c\",\"say \"\"hi\"\"\",,"), ["a", "b,c", "say \"hi\"", "", ""])
        XCTAssertNil(split(.byte(44, quoted: true), "a,\"open"))
        XCTAssertEqual(split(.doubleColon, "1::2::3::4"), ["1", "2", "3", "4"])
        XCTAssertEqual(split(.whitespace, "  u1 \t i2  "), ["u1", "i2"])
        XCTAssertEqual(split(.byte(9, quoted: false), "a\t\tb"), ["a", "", "b"])
    }

    func testIdMapAssignsDenseIdsAndFindsExistingOnes() {
        var map = IdMap(capacity: 4)
        func id(_ s: String) -> Int32? { var copy = Array(s.utf8); return copy.withUnsafeMutableBufferPointer { map.id(for: UnsafeBufferPointer($0)) } }
        var preload = Array("old".utf8)
        preload.withUnsafeMutableBufferPointer { map.preload(UnsafeBufferPointer($0), id: 7) }
        XCTAssertEqual(id("old"), 7)
        XCTAssertEqual(id("new"), 8)
        XCTAssertEqual(id("new"), 8)
        for i in 0..<10_000 { _ = id("k\(i)") }  // forces several resizes
        XCTAssertEqual(id("k0"), 9)
        XCTAssertEqual(id("k9999"), 10_008)
        XCTAssertEqual(map.newCount, 10_001)
        var seen: [String] = []
        map.forEachNew { key, _ in if seen.count < 2 { seen.append(String(decoding: key, as: UTF8.self)) } }
        XCTAssertEqual(seen, ["new", "k0"], "new ids in order of first appearance")

        var small = IdMap(capacity: 4, limit: 3)
        func smallId(_ s: String) -> Int32? { var copy = Array(s.utf8); return copy.withUnsafeMutableBufferPointer { small.id(for: UnsafeBufferPointer($0)) } }
        XCTAssertEqual([smallId("a"), smallId("b"), smallId("c"), smallId("d"), smallId("a")], [1, 2, 3, nil, 1], "no id past the limit")
        var full = IdMap(capacity: 4)
        var last = Array("last".utf8)
        last.withUnsafeMutableBufferPointer { full.preload(UnsafeBufferPointer($0), id: Int32.max) }
        var next = Array("next".utf8)
        XCTAssertNil(next.withUnsafeMutableBufferPointer { full.id(for: UnsafeBufferPointer($0)) }, "no trap after Int32.max")
    }

    /// The formats a file name names, through a compression suffix; the ambiguous and the unnamed none.
    func testFormatFromTheFileName() {
        let names: [String: InteractionFormat?] = [
            "log.csv": .csv, "/data/LOG.CSV.gz": .csv, "events.tsv.zst": .tsv, "a.b.jsonl": .jsonl, "x.ndjson.gz": .jsonl,
            "ml-100k.inter": .recbole, "ratings.dat": nil, "u.data": nil, "csv": nil, "-": nil, "log.gz": nil,
        ]
        for (name, format) in names { XCTAssertEqual(InteractionFormat.inferred(fromFileName: name), format, name) }
    }
}
