import XCTest
@testable import PleatIngest

/// The byte-level parsers on the ingest hot path.
final class ParsingTests: XCTestCase {
    private func time(_ text: String) -> Int64? {
        var copy = Array(text.utf8)
        return copy.withUnsafeMutableBufferPointer { ByteParsing.timestamp(UnsafeBufferPointer($0)) }
    }

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
        for bad in ["", "yesterday", "12abc", "2024-13-01", "2024-05-01T25:00", "2024-05-01X", "1.2.3"] {
            XCTAssertNil(time(bad), bad)
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
        func id(_ s: String) -> Int32 { var copy = Array(s.utf8); return copy.withUnsafeMutableBufferPointer { map.id(for: UnsafeBufferPointer($0)) } }
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
    }
}
