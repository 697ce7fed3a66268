import Foundation
import XCTest
@testable import PleatIngest

final class SyntheticLogTests: XCTestCase {
    private func generate(seed: UInt64, longUsers: Int = 0) throws -> (String, SyntheticLog.Output) {
        var settings = SyntheticLog.Settings()
        settings.users = 200
        settings.seed = seed
        settings.longUsers = longUsers
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("s.csv").path
        let output = try SyntheticLog(settings: settings).write(interactions: csv, items: dir.appendingPathComponent("s.items.csv").path)
        return (try String(contentsOfFile: csv, encoding: .utf8), output)
    }

    func testDeterministicForASeed() throws {
        let (a, outA) = try generate(seed: 1)
        let (b, _) = try generate(seed: 1)
        let (c, _) = try generate(seed: 2)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertEqual(a.split(separator: "\n").count - 1, outA.events)
    }

    /// `longUsers` users, spread over the ids, get histories in [maxEvents/2, maxEvents]; the others stay
    /// log-normal (median 60, so none of them reaches 1,000 at this seed).
    func testLongUsersGetTheHeavyTail() throws {
        let (text, _) = try generate(seed: 4, longUsers: 4)
        var counts: [Substring: Int] = [:]
        for line in text.split(separator: "\n").dropFirst() { counts[line.split(separator: ",")[0], default: 0] += 1 }
        let long = counts.filter { $0.value >= 1_000 }
        XCTAssertEqual(Set(long.keys), ["u1", "u51", "u101", "u151"])
        XCTAssertTrue(long.values.allSatisfy { (1_000...2_000).contains($0) }, "\(long)")
    }

    func testPlantedSequentialStructureIsPresent() throws {
        let (text, _) = try generate(seed: 3)
        // Items are laid out category by category: 2,000 items in 20 categories of 100.
        let perCategory = 100
        var user: Substring = ""
        var lastInCategory: [Int: Int] = [:]
        var nextInOrder = 0, returns = 0
        var itemsPerCategory = Set<Int>()
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",")
            if f[0] != user { user = f[0]; lastInCategory = [:] }
            let item = Int(f[1].dropFirst())! - 1
            let category = item / perCategory
            itemsPerCategory.insert(category)
            if let last = lastInCategory[category] {
                returns += 1
                if item == last + 1 { nextInOrder += 1 }
            }
            lastInCategory[category] = item
        }
        // A random item of the category would be "the next one in order" 1% of the time.
        XCTAssertGreaterThan(Double(nextInOrder) / Double(returns), 0.5)
        XCTAssertEqual(itemsPerCategory.count, 20)
    }
}
