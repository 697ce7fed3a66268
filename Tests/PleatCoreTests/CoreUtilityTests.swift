import XCTest
@testable import PleatCore

final class CoreUtilityTests: XCTestCase {
    func testRandomSourceIsDeterministicAndSplitsIndependently() {
        var a = RandomSource(seed: 1), b = RandomSource(seed: 1), c = RandomSource(seed: 2)
        let seqA = (0..<5).map { _ in a.next() }
        XCTAssertEqual(seqA, (0..<5).map { _ in b.next() })
        XCTAssertNotEqual(seqA, (0..<5).map { _ in c.next() })
        let root = RandomSource(seed: 9)
        var s1 = root.split(1), s2 = root.split(2), s1again = root.split(1)
        XCTAssertEqual(s1.next(), s1again.next())
        XCTAssertNotEqual(s1.next(), s2.next())
    }

    func testUniformMeanIsAboutOneHalf() {
        var rng = RandomSource(seed: 3)
        let mean = (0..<100_000).reduce(0.0) { acc, _ in acc + rng.uniform() } / 100_000
        XCTAssertEqual(mean, 0.5, accuracy: 0.01)
    }

    func testFormatting() {
        XCTAssertEqual(Format.count(1_234_567), "1,234,567")
        XCTAssertEqual(Format.count(-1000), "-1,000")
        XCTAssertEqual(Format.count(12), "12")
        XCTAssertEqual(Format.duration(5.25), "5.2s")
        XCTAssertEqual(Format.duration(125), "2m05s")
    }

    func testTextTableAlignsColumns() {
        var table = TextTable(["name", "count"])
        table.add(["users", "5"])
        table.add(["interactions", "1,000"])
        let lines = table.render().split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(Set(lines.map(\.count)).count, 1, "all lines have the same width")
        XCTAssertTrue(lines[3].hasSuffix("1,000"))
    }

    func testPleatHomeDefaultsAndOverride() {
        XCTAssertTrue(PleatHome(environment: [:]).url.path.hasSuffix("/.pleat"))
        XCTAssertEqual(PleatHome(environment: ["PLEAT_HOME": "/tmp/x"]).url.path, "/tmp/x")
        XCTAssertEqual(PleatHome(path: "/tmp/y", environment: ["PLEAT_HOME": "/tmp/x"]).url.path, "/tmp/y")
    }
}
