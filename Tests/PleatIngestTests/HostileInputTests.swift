import Foundation
import XCTest
import PleatCore
import PleatIngest
import PleatStorage
import PleatTestSupport
@testable import PleatIngest

/// Inputs that used to trap the process or sink a whole batch: each now costs its row (kept with line and
/// reason) and the rest loads, or, for the input as a whole, fails with a clear error storing nothing.
final class HostileInputTests: IngestTestCase {
    /// One bad row among good ones: it is rejected with `reason`, the two good rows load.
    private func assertRowRejected(_ bad: [UInt8], reason: String, format: InteractionFormat = .csv, header: String = "user,item,time\n",
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let tag = UUID().uuidString.prefix(8)  // fresh users, so that several calls in one test each load two rows
        let bytes = Array(header.utf8) + Array("u1\(tag),a,100\n".utf8) + bad + Array("\nu2\(tag),b,200\n".utf8)
        let report = try ingest(try write("rows.\(UUID().uuidString).csv", bytes: bytes), format)
        XCTAssertEqual(report.status, .committed, file: file, line: line)
        XCTAssertEqual(report.rowsLoaded, 2, "the good rows load", file: file, line: line)
        let rejected = try rejects(report.batchId)
        XCTAssertEqual(rejected.map(\.0), [3], "line of the bad row", file: file, line: line)
        XCTAssertTrue(rejected.first?.1.hasPrefix(reason) == true, "\(rejected.first?.1 ?? "no rejection") starts with \(reason)", file: file, line: line)
    }

    func testATimeThatOverflowsIsRejectedNotATrap() throws {
        try assertRowRejected(Array("u3,c,99999999999999999".utf8), reason: "time out of range: '99999999999999999'")
    }

    func testTimesOutsidePostgreSQLsRangeAreRejectedNotTheBatch() throws {
        try assertRowRejected(Array("u3,c,-99999999999".utf8), reason: "time out of range")
        try assertRowRejected(Array("u3,c,253402300800000".utf8), reason: "time out of range")
    }

    func testANULByteCostsOnlyItsRow() throws {
        try assertRowRejected(Array("u3,c".utf8) + [0] + Array("d,300".utf8), reason: "NUL byte: at byte 5")
    }

    func testAnIdPastTheLimitIsRejected() throws {
        try assertRowRejected(Array("u3,\(String(repeating: "x", count: 3_000)),300".utf8), reason: "id too long: item id of 3000 bytes")
        // At the limit it loads (the unique index takes it).
        let report = try ingest(try write("limit.csv", "user,item,time\nu9,\(String(repeating: "y", count: IngestLimits.maxIdBytes)),1\n"), .csv)
        XCTAssertEqual(report.rowsLoaded, 1)
    }

    func testControlCharactersInJSONValuesAreRejectedAndNeverShiftFields() throws {
        // U+001F used to be the field separator of the JSON path: "u\u001Fx" shifted the item into the user.
        let lines = """
            {"user": "u1", "item": "a", "timestamp": 100}
            {"user": "u\\u001Fz", "item": "b", "timestamp": 200}
            {"user": "u2", "item": "c\\u0007", "timestamp": 300}
            {"user": "u3", "item": "d", "timestamp": 400}

            """
        let report = try ingest(try write("control.jsonl", lines), .jsonl)
        XCTAssertEqual(report.rowsLoaded, 2)
        let rejected = try rejects(report.batchId)
        XCTAssertEqual(rejected.map(\.0), [2, 3])
        XCTAssertEqual(rejected[0].1, "control character: U+001F in the user id (column user)")
        XCTAssertEqual(rejected[1].1, "control character: U+0007 in the item id (column item)")
        XCTAssertEqual(try count("SELECT count(*) FROM users WHERE external_id LIKE 'u%z' OR external_id = 'b'"), 0)
    }

    func testALineLongerThanTheLimitIsRejectedInBoundedMemory() throws {
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: IngestLimits.maxRecordBytes * 3)
        try assertRowRejected(Array("u3,".utf8) + long + Array(",300".utf8), reason: "line too long: \(IngestLimits.maxRecordBytes * 3 + 7) bytes")
        let raw = try db.query("SELECT length(raw) FROM rejected_rows").int(0, 0)
        XCTAssertEqual(raw, IngestLimits.keptBytesOfLongRecord, "the head of the line is kept")
    }

    /// `pleat ingest /dev/stdin` fed 200 MiB of NUL bytes (no newline at all) through a pipe: one rejected
    /// line, and the process stays small (before: it kept the whole line, and /dev/zero exhausted memory).
    func testAnEndlessLineDoesNotExhaustMemory() throws {
        let pleat = TestDatabase.pleatExecutable.path
        guard FileManager.default.isExecutableFile(atPath: pleat) else { throw XCTSkip("pleat is not built") }
        let script = "head -c 209715200 /dev/zero | /usr/bin/time -f 'peak %M KiB' \(pleat) ingest - --format pairs --max-reject-rate 1 --json"
        let outcome = try Subprocess.capture("/bin/sh", ["-c", script], environment: ["PLEAT_DATABASE_URL": url])
        XCTAssertEqual(outcome.exitCode, 3, "loaded with rejected rows: \(outcome.output)")
        XCTAssertTrue(outcome.output.contains(#""rows_rejected":1"#), outcome.output)
        let peak = Int(outcome.output.components(separatedBy: "peak ").last?.components(separatedBy: " KiB").first ?? "") ?? .max
        print("peak RSS of pleat ingest on 200 MiB without a newline: \(peak / 1024) MiB")
        XCTAssertLessThan(peak, 150 << 10, "peak RSS \(peak) KiB")
        XCTAssertEqual(try rejects(try count("SELECT max(id) FROM ingest_batches")).first?.1.hasPrefix("line too long: 209715200 bytes"), true)
    }

    func testMoreEventTypesThanTheLimitCostTheirRowsNotATrap() throws {
        // The database already holds the limit's worth of event types but one.
        try db.execute("INSERT INTO event_types (id, name) SELECT g, 'type' || g FROM generate_series(1, \(IngestLimits.maxEventTypes - 1)) g")
        let report = try ingest(try write("types.csv", "user,item,time,event\nu1,a,1,type5\nu1,b,2,fresh\nu1,c,3,another\nu1,d,4,yet another\n"), .csv)
        XCTAssertEqual(report.rowsLoaded, 2, "an existing type and the one new type that fits")
        XCTAssertEqual(try rejects(report.batchId).map(\.0), [4, 5])
        XCTAssertTrue(try rejects(report.batchId)[0].1.hasPrefix("too many event types"))
        XCTAssertEqual(try count("SELECT count(*) FROM event_types"), IngestLimits.maxEventTypes)
    }

    func testASpoolThatCannotBeReadBackStopsTheBatchInsteadOfCommittingShort() throws {
        let spool = SortedEventSpool(runCapacity: 100)
        for i in 0..<1_000 {
            try spool.append(PendingEvent(micros: Int64(i), line: Int64(i), user: Int32(i % 7), item: 1, value: .nan, event: 1, partition: 0))
        }
        try spool.finish()
        try spool.runs[3].truncate(atOffset: 320)
        XCTAssertThrowsError(try spool.forEachUnique { _ in }) { XCTAssertTrue("\($0)".contains("ended after 10 of 100 events"), "\($0)") }
    }

    // MARK: One pass over any input

    /// The same log as a plain file, through a pipe on stdin, gzip and zstd: the same rows, and every
    /// later form is recognised as already ingested (the hash is of the content, read once).
    func testPipesStdinGzipAndZstdLoadTheSameRowsAndAreRecognisedAsIngested() throws {
        let pleat = TestDatabase.pleatExecutable.path
        guard FileManager.default.isExecutableFile(atPath: pleat) else { throw XCTSkip("pleat is not built") }
        var csv = "user,item,time\n"
        var rng = RandomSource(seed: 4)
        for i in 0..<20_000 { csv += "u\(rng.below(500)),i\(rng.below(300)),\(1_000 + i)\n" }
        let plain = try write("log.csv", csv)
        for tool in ["gzip", "zstd"] where FileManager.default.isExecutableFile(atPath: "/usr/bin/\(tool)") {
            _ = try Subprocess.run("/bin/sh", ["-c", "\(tool) -kq \(plain)"])
        }
        func run(_ command: String, database: String) throws -> [String: Any] {
            let outcome = try Subprocess.capture("/bin/sh", ["-c", command], environment: ["PLEAT_DATABASE_URL": database])
            XCTAssertEqual(outcome.exitCode, 0, "\(command): \(outcome.output)")
            let last = outcome.output.split(separator: "\n").last.map(String.init) ?? ""
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], outcome.output)
        }
        func stored(_ database: String) throws -> [String] {
            let rows = try PostgresConnection(url: database).query("""
                SELECT u.external_id || ' ' || it.external_id || ' ' || extract(epoch FROM i.occurred_at)::bigint
                FROM interactions i JOIN users u ON u.id = i.user_id JOIN items it ON it.id = i.item_id ORDER BY 1
                """)
            return (0..<rows.rowCount).map { rows.string($0, 0)! }
        }
        let reference = try run("\(pleat) ingest \(plain) --format csv --json", database: url)
        let expected = try stored(url)
        XCTAssertEqual(expected.count, reference["rows_loaded"] as? Int)
        var forms = ["cat \(plain) | \(pleat) ingest - --format csv --json", "\(pleat) ingest <(cat \(plain)) --format csv --json"]
        forms[1] = "bash -c '\(forms[1])'"
        if FileManager.default.fileExists(atPath: plain + ".gz") { forms += ["\(pleat) ingest \(plain).gz --format csv --json",
                                                                             "cat \(plain).gz | \(pleat) ingest - --format csv --json"] }
        if FileManager.default.fileExists(atPath: plain + ".zst") { forms.append("\(pleat) ingest \(plain).zst --format csv --json") }
        XCTAssertGreaterThanOrEqual(forms.count, 5, "gzip and zstd are installed by scripts/setup.sh")
        for form in forms {
            let fresh = try TestDatabase.fresh()
            let first = try run(form, database: fresh)
            XCTAssertEqual(first["status"] as? String, "committed", form)
            XCTAssertEqual(first["sha256"] as? String, reference["sha256"] as? String, "the hash is the content's: \(form)")
            XCTAssertEqual(try stored(fresh), expected, form)
            XCTAssertEqual(try run(form, database: fresh)["status"] as? String, "already_ingested", "re-run: \(form)")
            XCTAssertEqual(try run(form, database: url)["status"] as? String, "already_ingested", "against the plain file's batch: \(form)")
        }
    }

    func testCorruptAndTruncatedCompressedInputFailsWholeWithNothingStored() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gzip") else { throw XCTSkip("gzip missing") }
        var csv = "user,item,time\n"
        for i in 0..<5_000 { csv += "u\(i % 50),i\(i % 70),\(i)\n" }
        let plain = try write("c.csv", csv)
        _ = try Subprocess.run("/usr/bin/gzip", ["-k", plain])
        let gz = try Data(contentsOf: URL(fileURLWithPath: plain + ".gz"))
        let truncated = try write("t.csv.gz", bytes: Array(gz.prefix(gz.count / 2)))
        XCTAssertThrowsError(try ingest(truncated, .csv)) { XCTAssertTrue("\($0)".contains("ends early"), "\($0)") }
        var corrupt = Array(gz)
        for i in 100..<140 { corrupt[i] ^= 0x5A }
        XCTAssertThrowsError(try ingest(try write("x.csv.gz", bytes: corrupt), .csv)) { XCTAssertTrue("\($0)".contains("corrupt gzip"), "\($0)") }
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), 0)
        XCTAssertEqual(try count("SELECT count(*) FROM ingest_batches"), 0)
    }

    /// A regular file that grows while it is read: refused, nothing stored, so that the complete file is
    /// not later skipped as "already ingested" under the hash of a part of it.
    func testAFileThatChangesWhileReadIsRefused() throws {
        var csv = "user,item,time\n"
        for i in 0..<50_000 { csv += "u\(i % 500),i\(i % 300),\(i)\n" }
        let path = try write("growing.csv", csv)
        let input = try InputFile(path: path)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        defer { buffer.deallocate() }
        _ = try input.read(into: buffer)
        let appender = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try appender.seekToEnd()
        try appender.write(contentsOf: Data("u9,i9,99999\n".utf8))
        try appender.close()
        while try input.read(into: buffer) > 0 {}
        XCTAssertThrowsError(try input.finish()) { XCTAssertTrue("\($0)".contains("changed while it was read"), "\($0)") }
        // Through the ingest, with a writer appending every millisecond for as long as it runs: the check
        // runs before the batch commits, and nothing is kept.
        let stop = DispatchSemaphore(value: 0), stopped = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let handle = try? FileHandle(forWritingTo: URL(fileURLWithPath: path))
            var i = 0
            while stop.wait(timeout: .now() + .milliseconds(1)) == .timedOut {
                _ = try? handle?.seekToEnd()
                try? handle?.write(contentsOf: Data("u9,i9,\(100_000 + i)\n".utf8))
                i += 1
            }
            try? handle?.close()
            stopped.signal()
        }
        XCTAssertThrowsError(try ingest(path, .csv)) { XCTAssertTrue("\($0)".contains("changed while it was read"), "\($0)") }
        stop.signal()
        stopped.wait()
        XCTAssertEqual(try count("SELECT count(*) FROM ingest_batches"), 0)
        XCTAssertEqual(try count("SELECT count(*) FROM interactions"), 0)
    }
}
