import Foundation
import XCTest
import PleatCore
import PleatStorage
import PleatTestSupport

/// The release binary on its own: copied out of the checkout, with no Swift toolchain library on its
/// path, it starts its database, migrates it (the migrations are built in), ingests, trains, scores and
/// recommends.
final class InstallAnywhereTests: XCTestCase {
    func testTheReleaseBinaryRunsTheWholePipelineOutsideTheCheckout() throws {
        let built = ProcessInfo.processInfo.environment["PLEAT_RELEASE_BIN"].map { URL(fileURLWithPath: $0) }
            ?? TestDatabase.repositoryRoot.appendingPathComponent(".build/release/pleat")
        guard FileManager.default.isExecutableFile(atPath: built.path) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { XCTFail("CI builds the release binary first (scripts/test.sh)") }
            throw XCTSkip("no release build at \(built.path): swift build -c release --static-swift-stdlib")
        }
        let place = URL(fileURLWithPath: "/tmp/pleat-anywhere-\(getpid())")
        try? FileManager.default.removeItem(at: place)
        try FileManager.default.createDirectory(at: place, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: place) }
        let pleat = place.appendingPathComponent("pleat").path
        try FileManager.default.copyItem(atPath: built.path, toPath: pleat)

        let libraries = try Subprocess.run("/usr/bin/ldd", [pleat])
        XCTAssertFalse(libraries.contains("libswift"), "the Swift runtime is linked in: \(libraries)")
        XCTAssertFalse(libraries.contains("libFoundation"), "Foundation is linked in: \(libraries)")
        XCTAssertFalse(libraries.contains("not found"), libraries)

        // A clean environment (env -i): no toolchain library path, and a working directory outside the
        // checkout, so there are no migrations/ files to find.
        let home = place.appendingPathComponent("home").path
        var environment = ["PATH=/usr/bin:/bin:/usr/sbin:/sbin", "PLEAT_HOME=\(home)", "HOME=\(place.path)"]
        for key in ["USER", "LOGNAME"] { if let value = ProcessInfo.processInfo.environment[key] { environment.append("\(key)=\(value)") } }
        func run(_ arguments: [String]) throws -> String {
            let outcome = try Subprocess.capture("/usr/bin/env", ["-i", "-C", place.path] + environment + [pleat] + arguments)
            XCTAssertEqual(outcome.exitCode, 0, "pleat \(arguments.joined(separator: " ")): \(outcome.output)")
            return outcome.output
        }
        defer {
            _ = try? run(["db", "stop"])
            // As root the cluster's data lives under the postgres user's home (cluster.json says where).
            if let data = try? Data(contentsOf: URL(fileURLWithPath: home + "/postgres/cluster.json")),
               let layout = try? JSONSerialization.jsonObject(with: data) as? [String: String], let directory = layout["data_directory"] {
                try? FileManager.default.removeItem(at: URL(fileURLWithPath: directory).deletingLastPathComponent())
            }
        }
        _ = try run(["db", "start"])
        XCTAssertTrue(try run(["db", "migrate"]).contains("applied"))
        _ = try run(["synth", "--users", "300", "--items", "200", "--median-events", "30", "--output", place.appendingPathComponent("log.csv").path])
        _ = try run(["ingest", place.appendingPathComponent("log.csv").path, "--format", "csv"])
        _ = try run(["train", "--model", "sasrec", "--set", "epochs=1", "--set", "max_length=20", "--set", "sasrec.encoder.dimension=16"])
        // One epoch may not pass the promotion rule: served with --force, as a newcomer trying it out would.
        let scored = try run(["score", "--model", "latest", "--force"])
        XCTAssertTrue(scored.contains("promoted") && !scored.contains("not served"), scored)
        let answer = try run(["recommend", "--user", "u1", "--json"])
        XCTAssertTrue(answer.contains(#""source":"cache""#), answer)
    }
}
