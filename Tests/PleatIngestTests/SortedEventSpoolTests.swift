import XCTest
import PleatCore
@testable import PleatIngest

final class SortedEventSpoolTests: XCTestCase {
    private func randomEvents(_ n: Int, seed: UInt64) -> [PendingEvent] {
        var rng = RandomSource(seed: seed)
        return (0..<n).map { line in
            PendingEvent(micros: Int64(rng.below(50)), line: Int64(line), user: Int32(rng.below(20)),
                         item: Int32(rng.below(5)), value: Float(line), event: Int16(rng.below(2)), partition: 0)
        }
    }

    /// The distinct keys in order, each with the value of its first line: the reference answer.
    private func reference(_ events: [PendingEvent]) -> [PendingEvent] {
        var best: [String: PendingEvent] = [:]
        for e in events {
            let key = "\(e.user)/\(e.micros)/\(e.item)/\(e.event)"
            if let old = best[key], old.line < e.line { continue }
            best[key] = e
        }
        return best.values.sorted(by: PendingEvent.precedes)
    }

    private func drain(_ spool: SortedEventSpool) throws -> ([PendingEvent], Int) {
        var out: [PendingEvent] = []
        let duplicates = try spool.forEachUnique { out.append($0) }
        return (out, duplicates)
    }

    func testInMemoryAndSpilledRunsGiveTheSameSortedDistinctEvents() throws {
        let events = randomEvents(5_000, seed: 11)
        let expected = reference(events)
        XCTAssertLessThan(expected.count, events.count, "the input has duplicates")
        for capacity in [1 << 20, 700, 64] {  // one run in memory; several spilled runs; many
            let spool = SortedEventSpool(runCapacity: capacity)
            for e in events { try spool.append(e) }
            try spool.finish()
            let (out, duplicates) = try drain(spool)
            XCTAssertEqual(out.map(\.line), expected.map(\.line), "capacity \(capacity)")
            XCTAssertEqual(duplicates, events.count - expected.count)
            XCTAssertEqual(try drain(spool).0.count, out.count, "can be read twice")
        }
    }

    func testSpilledRunsHaveNoNameInTheTemporaryDirectory() throws {
        func spoolFiles() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
                .filter { $0.hasPrefix("pleat-spool") }
        }
        let before = try spoolFiles()
        let spool = SortedEventSpool(runCapacity: 64)
        for e in randomEvents(1_000, seed: 3) { try spool.append(e) }
        try spool.finish()
        XCTAssertGreaterThan(spool.runs.count, 10)
        // Unlinked as soon as made: a process killed now leaves nothing behind.
        XCTAssertEqual(try spoolFiles(), before)
        XCTAssertEqual(try drain(spool).0.count, reference(randomEvents(1_000, seed: 3)).count)
    }
}
