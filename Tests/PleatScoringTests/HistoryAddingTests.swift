import XCTest
import PleatStorage
@testable import PleatScoring

/// Recent events join a stored history where an ingest would put them.
final class HistoryAddingTests: XCTestCase {
    func testEventsJoinInTimeItemAndTypeOrderAndDuplicatesCountOnce() {
        var history = UserTable.History()
        for (item, second, type) in [(5, 10, 1), (9, 20, 1), (9, 20, 2)] as [(Int32, Int64, Int16)] {
            history.items.append(item); history.seconds.append(second); history.eventTypes.append(type); history.values.append(.nan)
        }
        typealias Event = UserTable.History.Event
        let events: [Event] = [
            Event(item: 7, second: 20, eventType: 1, value: 1),
            Event(item: 3, second: 20, eventType: 1, value: 2),
            Event(item: 5, second: 10, eventType: 1, value: 3),   // stored
            Event(item: 1, second: 5, eventType: 1, value: 4),
            Event(item: 9, second: 30, eventType: 1, value: 5),
            Event(item: 9, second: 30, eventType: 1, value: 6),   // the one before
            Event(item: 9, second: 20, eventType: 3, value: 7),
        ]
        let added = history.add(events)
        XCTAssertEqual(added, [true, true, false, true, true, false, true])
        XCTAssertEqual(history.items, [1, 5, 3, 7, 9, 9, 9, 9])
        XCTAssertEqual(history.seconds, [5, 10, 20, 20, 20, 20, 20, 30])
        XCTAssertEqual(history.eventTypes, [1, 1, 1, 1, 1, 2, 3, 1])
        XCTAssertEqual(history.values.map { $0.isNaN ? -1 : $0 }, [4, -1, 2, 1, -1, -1, 7, 5], "the first of two identical events keeps its value")
    }
}
