import Foundation
import XCTest
import PleatIngest
import PleatStorage
import PleatTestSupport

/// Re-ingesting adds nothing; an interrupted ingest leaves nothing and can simply be run again.
final class IdempotencyTests: IngestTestCase {
    func testSameFileTwiceIsReportedAsAlreadyIngested() throws {
        let path = try write("a.csv", "user,item,time\nu1,i1,1\nu1,i2,2\n")
        let first = try ingest(path, .csv)
        let second = try ingest(path, .csv)
        XCTAssertEqual(second.status, .alreadyIngested)
        XCTAssertEqual(second.batchId, first.batchId)
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), 2)
        XCTAssertEqual(try count("SELECT count(*) FROM ingest_batches"), 1)
    }

    func testOverlappingFilesStoreEachEventOnce() throws {
        let a = try write("a.csv", "user,item,time\nu1,i1,1\nu1,i2,2\nu2,i1,5\n")
        let b = try write("b.csv", "user,item,time\nu1,i2,2\nu2,i1,5\nu2,i3,6\nu2,i3,6\n")
        XCTAssertEqual(try ingest(a, .csv).rowsLoaded, 3)
        let second = try ingest(b, .csv)
        XCTAssertEqual(second.status, .committed)
        XCTAssertEqual(second.rowsLoaded, 1)
        XCTAssertEqual(second.duplicates, 3, "two seen before, one repeated inside the file")
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), 4)
        XCTAssertEqual(try history("u2").map(\.0), ["i1", "i3"])
    }

    func testKilledIngestLeavesNothingAndRerunCompletes() throws {
        let pleat = TestDatabase.pleatExecutable
        guard FileManager.default.isExecutableFile(atPath: pleat.path) else { throw XCTSkip("pleat not built at \(pleat.path)") }
        var settings = SyntheticLog.Settings()
        settings.users = 3_000
        settings.medianEvents = 150
        let csv = dir.appendingPathComponent("big.csv").path
        let output = try SyntheticLog(settings: settings).write(interactions: csv, items: dir.appendingPathComponent("big.items.csv").path)
        XCTAssertGreaterThan(output.events, 300_000)
        // The ingest's own temporary directory: a killed process must leave nothing in it.
        let temporary = dir.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)

        func runPleat(killAfter: TimeInterval?) throws -> Int32 {
            let process = Process()
            process.executableURL = pleat
            process.arguments = ["ingest", csv, "--format", "csv", "--json"]
            process.environment = ProcessInfo.processInfo.environment.merging(["PLEAT_DATABASE_URL": url, "TMPDIR": temporary.path]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if let killAfter {
                Thread.sleep(forTimeInterval: killAfter)
                XCTAssertTrue(process.isRunning, "the ingest finished before it could be killed: make the file bigger")
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
            return process.terminationStatus
        }
        // Killed while streaming rows: the batch's transaction never commits.
        _ = try runPleat(killAfter: 0.6)
        Thread.sleep(forTimeInterval: 0.3)  // let the server notice the dropped connection
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), 0)
        XCTAssertEqual(try count("SELECT count(*) FROM ingest_batches"), 0)
        XCTAssertEqual(try count("SELECT count(*) FROM users"), 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporary.path), [])

        XCTAssertEqual(try runPleat(killAfter: nil), 0)
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), output.events)
        XCTAssertEqual(try count("SELECT count(*) FROM users"), settings.users)
        XCTAssertEqual(try count("SELECT count(*) FROM ingest_batches WHERE status = 'committed'"), 1)
    }
}

/// Events streamed during parsing and events spooled after the stream closes end up the same.
final class StreamingOrderTests: IngestTestCase {
    func testEventsAfterTheFirstOutOfOrderRowAreStillStoredOnce() throws {
        let path = try write("mixed.csv", """
            user,item,time
            u1,a,1
            u1,b,2
            u1,b,2
            u2,a,1
            u1,a,1
            u1,c,3
            u3,a,5
            u2,a,0

            """)
        let report = try ingest(path, .csv)
        XCTAssertEqual(report.rowsRead, 8)
        XCTAssertEqual(report.rowsLoaded, 6)
        XCTAssertEqual(report.duplicates, 2, "u1,b,2 twice in a row; u1,a,1 again after u2")
        XCTAssertEqual(try history("u1").map(\.0), ["a", "b", "c"])
        XCTAssertEqual(try history("u2").map(\.0), ["a", "a"])
        XCTAssertEqual(try history("u3").map(\.0), ["a"])
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), 6)
    }

    func testAbortAfterStreamingStoresNothing() throws {
        let path = try write("sorted-but-bad.csv", "user,item,time\nu1,a,1\nu1,b,2\nu2,a,1\nu2,b,x\n")
        let report = try ingest(path, .csv, maxRejectRate: 0.1)
        XCTAssertEqual(report.status, .aborted)
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), 0, "streamed rows were rolled back")
    }
}

/// Two ingests at the same time take turns (an advisory lock), so ids stay dense and unique.
final class ConcurrentIngestTests: IngestTestCase {
    func testConcurrentIngestsBothCommitWithDistinctDenseIds() throws {
        var a = "user,item,time\n", b = "user,item,time\n"
        for i in 0..<20_000 {
            a += "a\(i % 500),x\(i % 300),\(i)\n"
            b += "b\(i % 400),x\(i % 350),\(i)\n"
        }
        let files = [try write("a.csv", a), try write("b.csv", b)]
        let url = self.url
        final class Failures: @unchecked Sendable { let lock = NSLock(); var messages: [String] = [] }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            do {
                let report = try Ingestor(db: PostgresConnection(url: url)).ingest(file: files[i], options: IngestOptions(format: .csv))
                if report.status != .committed { failures.lock.withLock { failures.messages.append("\(report.status)") } }
            } catch { failures.lock.withLock { failures.messages.append("\(error)") } }
        }
        XCTAssertEqual(failures.messages, [])
        XCTAssertEqual(try count("SELECT count(*) FROM users"), 900)
        XCTAssertEqual(try count("SELECT max(id) FROM users"), 900)
        XCTAssertEqual(try count("SELECT count(*) FROM items"), 350, "x0..x349, shared by both files")
        XCTAssertEqual(try count("SELECT max(id) FROM items"), 350)
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), 40_000)
    }
}
