import Foundation
import XCTest
import PleatCore

/// Temporary files that have no name: nothing to remove, so nothing left when a process is killed.
final class TemporaryFileTests: XCTestCase {
    func testAnUnlinkedTemporaryFileReadsBackWhatWasWrittenAndHasNoName() throws {
        let directory = FileManager.default.temporaryDirectory.path
        let before = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("pleat-unlinked-test") }
        let handle = try FileHandle.unlinkedTemporary(prefix: "pleat-unlinked-test")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("pleat-unlinked-test") }, before)
        try handle.write(contentsOf: Data("spooled".utf8))
        try handle.seek(toOffset: 0)
        XCTAssertEqual(try handle.readToEnd(), Data("spooled".utf8))
        // Not inherited by programs this process starts.
        XCTAssertNotEqual(fcntl(handle.fileDescriptor, F_GETFD) & FD_CLOEXEC, 0)
        try handle.close()
    }

    func testCapturedOutputGoesToAFileWithNoName() throws {
        let outcome = try Subprocess.capture("/bin/sh", ["-c", "echo to stderr >&2; readlink /proc/self/fd/1"])
        XCTAssertEqual(outcome.exitCode, 0)
        let lines = outcome.output.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "to stderr")
        XCTAssertTrue(lines.last?.hasSuffix("(deleted)") == true, outcome.output)
    }
}
