import Foundation
import XCTest
@testable import PleatIngest

final class SyntheticLogTests: XCTestCase {
    private func generate(seed: UInt64, longUsers: Int = 0, funnel: Bool = false) throws -> (String, SyntheticLog.Output) {
        var settings = SyntheticLog.Settings()
        settings.users = 200
        settings.seed = seed
        settings.longUsers = longUsers
        settings.funnel = funnel
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

    /// The funnel: every purchase is of an item the user put in the cart before and bought never again;
    /// views repeat; times never go back; the summary counts each behaviour.
    func testFunnelBuysOnlyCartedItemsOnce() throws {
        let (text, output) = try generate(seed: 6, funnel: true)
        var carted = Set<[Substring]>(), bought = Set<[Substring]>(), viewed = Set<[Substring]>()
        var counts: [String: Int] = [:], repeatedViews = 0, lastTime: [Substring: Int] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ","), key = [f[0], f[1]], time = Int(f[2])!
            XCTAssertGreaterThanOrEqual(time, lastTime[f[0]] ?? 0, "\(line): in time order")
            lastTime[f[0]] = time
            counts[String(f[3]), default: 0] += 1
            switch f[3] {
            case "view": if !viewed.insert(key).inserted { repeatedViews += 1 }
            case "cart": carted.insert(key)
            case "buy":
                XCTAssertTrue(carted.contains(key), "\(line): bought without a cart")
                XCTAssertTrue(bought.insert(key).inserted, "\(line): bought twice")
            default: XCTFail("\(line): unknown behaviour")
            }
        }
        XCTAssertEqual(counts, output.behaviours)
        XCTAssertEqual(counts.values.reduce(0, +), output.events)
        let views = try XCTUnwrap(counts["view"]), carts = try XCTUnwrap(counts["cart"]), buys = try XCTUnwrap(counts["buy"])
        XCTAssertGreaterThan(repeatedViews, views / 20, "views repeat")
        XCTAssertGreaterThan(buys, carts / 2, "most carts end in a purchase")
        XCTAssertLessThan(carts, views / 4)
        let (plain, plainOutput) = try generate(seed: 6)
        XCTAssertEqual(Set(plainOutput.behaviours.keys), ["view", "purchase"], "without the funnel, the random labels")
        XCTAssertNotEqual(plain, text)
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
