import Foundation
import XCTest
import PleatCore
import PleatModel
import PleatStorage
import PleatTestSupport
@testable import PleatTraining

/// `kill -9` at every point where a training run writes something: afterwards there is either a
/// registered model whose artifact verifies, or a run that `--resume` completes into the same model an
/// uninterrupted run gives; never a finished run the registry lacks. The run refits (`refit`), so the
/// points include the refit pass's: checkpoint 5 is its first epoch's (4 epochs choose, then at least one).
final class CrashSafetyTests: XCTestCase {
    static let points = ["run.start", "checkpoint:1", "checkpoint:3", "best:2", "checkpoint:5", "weights", "artifact.checksums", "metrics",
                         "registry"]

    func testAKillAtAnyWritePointLeavesARegisteredModelOrAResumableRun() throws {
        let pleat = TestDatabase.pleatExecutable
        guard FileManager.default.isExecutableFile(atPath: pleat.path) else { throw XCTSkip("pleat is not built") }
        let url = TrainingJobTests.data.url, db = try PostgresConnection(url: url), registry = ModelRegistry(db)
        let scratch = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let configFile = scratch.appendingPathComponent("config.json")
        var config = TrainingJobTests.config(.sasrec, epochs: 4)
        config.refit = true
        try config.jsonData().write(to: configFile)

        var lastOutput = ""
        func train(_ artifacts: URL, _ extra: [String] = [], crashAt point: String? = nil) throws -> Int32 {
            let process = Process(), errors = Pipe()
            process.executableURL = pleat
            process.arguments = ["train", "--config", configFile.path, "--artifacts", artifacts.path, "--json"] + extra
            var environment = ProcessInfo.processInfo.environment.merging(["PLEAT_DATABASE_URL": url]) { $1 }
            environment["PLEAT_CRASH_POINT"] = point
            process.environment = environment
            (process.standardOutput, process.standardError) = (FileHandle.nullDevice, errors)
            try process.run()
            lastOutput = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
        }
        func onlyRun(_ artifacts: URL) throws -> RunDirectory {
            let runs = try FileManager.default.contentsOfDirectory(atPath: artifacts.path)
            XCTAssertEqual(runs.count, 1, "\(runs)")
            return RunDirectory(artifacts.appendingPathComponent(try XCTUnwrap(runs.first)))
        }

        let referenceDirectory = scratch.appendingPathComponent("reference")
        XCTAssertEqual(try train(referenceDirectory), 0)
        let reference = try XCTUnwrap(try registry.find(try onlyRun(referenceDirectory).modelId))

        for point in Self.points {
            let artifacts = scratch.appendingPathComponent(point.replacingOccurrences(of: ":", with: "-"))
            XCTAssertEqual(try train(artifacts, crashAt: point), -SIGKILL, "\(point): killed there")
            let run = try onlyRun(artifacts)
            if let record = try registry.find(run.modelId) {
                XCTAssertNoThrow(try ModelArtifact.load(from: run.url, expectedWeightsSHA256: record.artifactSHA256), point)
                XCTAssertEqual(point, "registry", "only a kill after the insert leaves a registered model")
            } else {
                XCTAssertEqual(try train(artifacts, ["--resume"]), 0, "\(point): --resume completes the run")
                XCTAssertEqual(try onlyRun(artifacts).modelId, run.modelId, "\(point): the same run, not a new one")
                if point == "metrics" {
                    XCTAssertTrue(lastOutput.contains("had finished training: registered it"), "only the insert was missing: \(lastOutput)")
                }
            }
            let record = try XCTUnwrap(try registry.find(run.modelId), point)
            XCTAssertNoThrow(try ModelArtifact.load(from: run.url, expectedWeightsSHA256: record.artifactSHA256), point)
            XCTAssertEqual(record.artifactSHA256, reference.artifactSHA256, "\(point): the weights of the uninterrupted run")
            XCTAssertEqual(record.test, reference.test, point)
        }
    }
}
