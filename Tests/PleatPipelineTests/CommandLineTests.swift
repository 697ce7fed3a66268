import Foundation
import XCTest
import PleatCore
import PleatTestSupport

/// The CLI as a Unix tool: a version, mistakes in the arguments against errors while running, and the
/// input format read from a file's name.
final class CommandLineTests: XCTestCase {
    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: TestDatabase.pleatExecutable.path) else { throw XCTSkip("pleat is not built") }
    }

    func testVersion() throws {
        let result = try PleatCommand.run(["--version"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.hasPrefix("pleat "), result.stdout)
        for arguments in [["--help"], ["train", "--help"], ["help", "ingest"], []] {
            let help = try PleatCommand.run(arguments)
            XCTAssertEqual(help.status, 0, "\(arguments): \(help.stderr)")
            XCTAssertTrue(help.stdout.contains("OVERVIEW:") && !help.stderr.contains("Error"), "\(arguments): \(help.stdout)\(help.stderr)")
        }
    }

    /// A mistake in the arguments prints the usage and exits 64; an error while running (here a model the
    /// registry does not have) prints one line naming it and exits 1, without the usage.
    func testRuntimeErrorsExit1WithOneLineAndArgumentMistakes64WithTheUsage() throws {
        let url = try TestDatabase.fresh()
        let unknown = try PleatCommand.run(["models", "show", "nope"], databaseURL: url)
        XCTAssertEqual(unknown.status, 1, unknown.stderr)
        XCTAssertEqual(unknown.stderr.split(separator: "\n").count, 1, unknown.stderr)
        XCTAssertTrue(unknown.stderr.hasPrefix("Error: ") && unknown.stderr.contains("nope"), unknown.stderr)
        XCTAssertFalse(unknown.stderr.lowercased().contains("usage"), unknown.stderr)

        let mistake = try PleatCommand.run(["models", "show", "--no-such-flag"], databaseURL: url)
        XCTAssertEqual(mistake.status, 64, mistake.stderr)
        XCTAssertTrue(mistake.stderr.contains("Usage: pleat models show"), mistake.stderr)
    }

    /// Under `taskset -c 0` pleat counts one usable CPU and starts one worker (`activeProcessorCount`
    /// would say every CPU of the machine).
    func testThreadsFollowTheAffinityMask() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset") else { throw XCTSkip("taskset is not installed") }
        let outcome = try Subprocess.capture("/usr/bin/taskset", ["-c", "0", TestDatabase.pleatExecutable.path, "doctor", "--json"], separateErrors: true)
        XCTAssertEqual(outcome.exitCode, 0, outcome.errors)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(outcome.output.utf8)) as? [String: Any])
        let usable = try XCTUnwrap(report["usable_cpus"] as? [String: Any])
        XCTAssertEqual(usable["affinity"] as? Int, 1)
        XCTAssertEqual(report["worker_threads"] as? Int, 1)
    }

    /// `--format` may be left out when the extension names it (compressed too); a name that does not is
    /// an error that says to give it.
    func testIngestReadsTheFormatFromTheExtension() throws {
        let url = try TestDatabase.fresh()
        let directory = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("log.csv"), data = directory.appendingPathComponent("log.data")
        try "user_id,item_id,timestamp\nu1,i1,100\nu1,i2,200\nu2,i1,150\n".write(to: csv, atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: csv, to: data)
        let loaded = try PleatCommand.run(["ingest", csv.path, "--json"], databaseURL: url)
        XCTAssertEqual(loaded.status, 0, loaded.stderr)
        XCTAssertTrue(loaded.stdout.contains("\"rows_loaded\":3"), loaded.stdout)
        // Rejected rows: the first ones printed with file, line, reason and the row.
        let bad = directory.appendingPathComponent("bad.tsv.gz")
        try Subprocess.run("/bin/sh", ["-c", "printf 'user_id\\titem_id\\ttimestamp\\nu1\\ti1\\t100\\nu2\\ti2\\tyesterday\\n' | gzip > '\(bad.path)'"])
        let partly = try PleatCommand.run(["ingest", bad.path, "--max-reject-rate", "0.9"], databaseURL: url)
        XCTAssertEqual(partly.status, 3, partly.stderr)
        XCTAssertTrue(partly.stdout.contains("bad.tsv.gz:3: unparsable time: 'yesterday'"), partly.stdout)
        XCTAssertTrue(partly.stdout.contains("u2\ti2\tyesterday"), partly.stdout)
        let unnamed = try PleatCommand.run(["ingest", data.path], databaseURL: url)
        XCTAssertEqual(unnamed.status, 1, unnamed.stderr)
        XCTAssertTrue(unnamed.stderr.contains("cannot tell its format") && unnamed.stderr.contains("--format"), unnamed.stderr)
    }

    /// A private cluster comes with its schema (`db start` migrates); a database nobody migrated says
    /// what to run instead of only "relation … does not exist".
    func testTheSchemaComesWithDbStartAndItsAbsenceNamesTheFix() throws {
        let bare = try TestDatabase.fresh(migrated: false)
        let listed = try PleatCommand.run(["models", "list"], databaseURL: bare)
        XCTAssertEqual(listed.status, 1, listed.stderr)
        XCTAssertTrue(listed.stderr.contains("42P01") && listed.stderr.contains("run `pleat db migrate`"), listed.stderr)

        let home = try TestDatabase.scratchDirectory()
        defer {
            _ = try? PleatCommand.run(["db", "remove", "--yes", "--home", home.path], unset: ["DATABASE_URL", "PLEAT_DATABASE_URL"])
            try? FileManager.default.removeItem(at: home)
        }
        let local = { (arguments: [String]) in try PleatCommand.run(arguments + ["--home", home.path], unset: ["DATABASE_URL", "PLEAT_DATABASE_URL"]) }
        let started = try local(["db", "start"])
        XCTAssertEqual(started.status, 0, started.stderr)
        XCTAssertTrue(started.stdout.contains("applied"), started.stdout)
        let models = try local(["models", "list", "--json"])
        XCTAssertEqual(models.status, 0, models.stderr)
        XCTAssertFalse(try local(["db", "start"]).stdout.contains("applied"), "nothing left to apply")
        // --json on the db commands: one object each.
        func object(_ arguments: [String]) throws -> [String: Any] {
            let result = try local(arguments + ["--json"])
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(arguments): \(result.stdout)")
        }
        XCTAssertEqual(try object(["db", "start"])["state"] as? String, "already running")
        let status = try object(["db", "status"])
        XCTAssertEqual(status["state"] as? String, "running")
        XCTAssertEqual(status["pending"] as? [String], [])
        XCTAssertTrue((try object(["db", "url"])["url"] as? String)?.hasPrefix("postgresql://") ?? false)
        XCTAssertEqual(try object(["db", "stop"])["state"] as? String, "stopped")
        XCTAssertEqual(try local(["db", "status", "--json"]).status, 1, "a stopped cluster")
    }

    /// With PostgreSQL unreachable, `pleat recommend` answers from the cache, marked unchecked, as the
    /// server does; a user without a cached list gets one line saying why.
    func testRecommendAnswersFromTheCacheWhenTheDatabaseIsDown() throws {
        let fixture = try WalkFixture()
        defer { fixture.remove() }
        _ = try fixture.score(fixture.sasrec)
        let cached = try XCTUnwrap(try fixture.cache().lookup(user: "u3")).list.items
        let down = "postgresql:///pleat?host=/nonexistent-pleat-socket-dir"
        let answer = try PleatCommand.run(["recommend", "--user", "u3", "-k", "5", "--cache", fixture.cachePath, "--json"], databaseURL: down)
        XCTAssertEqual(answer.status, 0, answer.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["freshness"] as? String, "unchecked")
        XCTAssertEqual((json["items"] as? [[String: Any]])?.compactMap { $0["item"] as? String }, Array(cached.prefix(5)))
        XCTAssertTrue(answer.stderr.contains("PostgreSQL is unreachable"), answer.stderr)

        let unknown = try PleatCommand.run(["recommend", "--user", "nobody", "--cache", fixture.cachePath], databaseURL: down)
        XCTAssertEqual(unknown.status, 1)
        XCTAssertEqual(unknown.stderr.split(separator: "\n").count, 1, unknown.stderr)

        // models export and import, --json.
        let exported = fixture.directory.appendingPathComponent("exported").path
        let export = try PleatCommand.run(["models", "export", fixture.sasrec.id, exported, "--json"], databaseURL: fixture.url)
        XCTAssertEqual(export.stdout.trimmingCharacters(in: .newlines), #"{"directory":"\#(exported)","model_id":"\#(fixture.sasrec.id)"}"#, export.stderr)
        let imported = try PleatCommand.run(["models", "import", exported, "--artifacts", fixture.directory.appendingPathComponent("elsewhere").path, "--json"],
                                            databaseURL: try TestDatabase.fresh())
        let record = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(imported.stdout.utf8)) as? [String: Any], imported.stderr)
        XCTAssertEqual(record["artifact_sha256"] as? String, fixture.sasrec.artifactSHA256)
    }

    /// `pleat recommend --recent`: the items scored on top of the stored history, as the HTTP route does
    /// (RecentEventsTests checks that equals their ingest); an unknown item is left out and said so.
    func testRecommendWithRecentItems() throws {
        let fixture = try WalkFixture()
        defer { fixture.remove() }
        _ = try fixture.score(fixture.sasrec)
        func items(_ arguments: [String]) throws -> (items: [String], json: [String: Any]) {
            let answer = try PleatCommand.run(["recommend", "--user", "u3", "--cache", fixture.cachePath, "--json"] + arguments, databaseURL: fixture.url)
            XCTAssertEqual(answer.status, 0, answer.stderr)
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any], answer.stderr)
            return ((json["items"] as? [[String: Any]] ?? []).compactMap { $0["item"] as? String }, json)
        }
        let stored = try items([])
        let recent = try items(["--recent", "i60,i61,i62,not-an-item"])
        XCTAssertEqual(recent.json["recent_events"] as? Int, 3)
        XCTAssertEqual(recent.json["source"] as? String, "live")
        XCTAssertNotEqual(recent.items, stored.items)
        XCTAssertTrue(Set(recent.items).isDisjoint(with: ["i60", "i61", "i62"]), "under exclude, the recent items are seen items")

        let wrongType = try PleatCommand.run(["recommend", "--user", "u3", "--cache", fixture.cachePath, "--recent", "i1", "--recent-event", "buy"],
                                             databaseURL: fixture.url)
        XCTAssertEqual(wrongType.status, 1)
        XCTAssertEqual(wrongType.stderr, "Error: events[0]: no event type 'buy' in this database (it has: interaction)\n")
        let alone = try PleatCommand.run(["recommend", "--user", "u3", "--recent-event", "buy"], databaseURL: fixture.url)
        XCTAssertEqual(alone.status, 64)
        XCTAssertTrue(alone.stderr.contains("give --recent too"), alone.stderr)
    }
}

/// The operations files in jobs/: every pleat command they run parses (`PLEAT_PARSE_ONLY`), and the
/// systemd units pass `systemd-analyze verify` (where systemd is installed) without a warning.
final class OperationsFilesTests: XCTestCase {
    static let jobs = TestDatabase.repositoryRoot.appendingPathComponent("jobs")
    static let installedPleat = "/opt/pleat/.build/release/pleat"

    func testEveryCommandOfTheUnitsAndTheCrontabParses() throws {
        guard FileManager.default.isExecutableFile(atPath: TestDatabase.pleatExecutable.path) else { throw XCTSkip("pleat is not built") }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.jobs.path).filter { $0.hasSuffix(".service") || $0 == "crontab" }
        XCTAssertTrue(Set(["pleat-db.service", "pleat-serve.service", "pleat-nightly-train.service", "crontab"]).isSubset(of: files), "\(files)")
        var commands = 0
        for file in files {
            for line in try String(contentsOf: Self.jobs.appendingPathComponent(file), encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
                guard let range = line.range(of: ".build/release/pleat ") else { continue }
                // A crontab line goes on after the command with a redirection.
                let command = line[range.upperBound...].prefix { $0 != ">" }
                let arguments = command.split(separator: " ").map(String.init)
                let parsed = try PleatCommand.run(arguments, environment: ["PLEAT_PARSE_ONLY": "1"])
                XCTAssertEqual(parsed.status, 0, "\(file): pleat \(command): \(parsed.stderr)")
                XCTAssertEqual(parsed.stdout + parsed.stderr, "", "\(file): nothing runs")
                commands += 1
            }
        }
        XCTAssertGreaterThanOrEqual(commands, 5)
        let mistake = try PleatCommand.run(["serve", "--port", "x"], environment: ["PLEAT_PARSE_ONLY": "1"])
        XCTAssertEqual(mistake.status, 64, "a wrong argument still fails")
    }

    func testUnitsPassSystemdAnalyze() throws {
        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else { throw XCTSkip("systemd-analyze is not installed") }
        guard FileManager.default.isExecutableFile(atPath: TestDatabase.pleatExecutable.path) else { throw XCTSkip("pleat is not built") }
        // The units name an installed checkout and user; verify them against this one.
        let directory = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let units = try FileManager.default.contentsOfDirectory(atPath: Self.jobs.path).filter { $0.hasSuffix(".service") || $0.hasSuffix(".timer") }
        for unit in units {
            let text = try String(contentsOf: Self.jobs.appendingPathComponent(unit), encoding: .utf8)
                .replacingOccurrences(of: Self.installedPleat, with: TestDatabase.pleatExecutable.path)
                .replacingOccurrences(of: "User=pleat", with: "User=\(NSUserName())")
                .replacingOccurrences(of: "WorkingDirectory=/opt/pleat", with: "WorkingDirectory=\(TestDatabase.repositoryRoot.path)")
            try text.write(to: directory.appendingPathComponent(unit), atomically: true, encoding: .utf8)
        }
        let outcome = try Subprocess.capture(analyze, ["verify", "--man=no"] + units.map { directory.appendingPathComponent($0).path }, separateErrors: true)
        XCTAssertEqual(outcome.exitCode, 0, outcome.errors)
        XCTAssertEqual(outcome.output + outcome.errors, "", "no warnings")
    }
}
