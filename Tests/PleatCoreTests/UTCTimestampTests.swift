import Foundation
import XCTest
import PleatCore

final class UTCTimestampTests: XCTestCase {
    /// The same text as Foundation's ISO 8601 formatter with fractional seconds, across years, leap days
    /// and a millisecond that rounds up to the next second.
    func testMatchesFoundationsFormatter() {
        let reference = ISO8601DateFormatter()
        reference.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for seconds in [0, 1.5, 951_782_400.25, 1_733_500_000.123, 1_733_500_000.9996, 4_102_444_799.999, -86_400.5] {
            XCTAssertEqual(UTCTimestamp.string(seconds), reference.string(from: Date(timeIntervalSince1970: seconds)), "\(seconds)")
        }
    }
}
