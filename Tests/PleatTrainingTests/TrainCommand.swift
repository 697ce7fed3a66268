import Foundation
import XCTest
import PleatTestSupport

/// `pleat train … --json` against a test database, in a child process: its JSON summary, or nil when it
/// was killed (`killWhen` sees the run directory while it trains).
func runPleatTrain(_ arguments: [String], databaseURL: String, artifacts: URL, environment: [String: String] = [:],
                   killWhen: ((URL) -> Bool)? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any]? {
    let process = Process(), out = Pipe()
    let runs = artifacts.appendingPathComponent("runs")
    process.executableURL = TestDatabase.pleatExecutable
    process.arguments = ["train", "--artifacts", runs.path, "--json"] + arguments
    process.environment = ProcessInfo.processInfo.environment.merging(["PLEAT_DATABASE_URL": databaseURL]) { $1 }.merging(environment) { $1 }
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    if let killWhen {
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline {
            if let run = try? FileManager.default.contentsOfDirectory(atPath: runs.path).first,
               killWhen(runs.appendingPathComponent(run)) { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTAssertTrue(process.isRunning, "the run finished before it could be killed", file: file, line: line)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return nil
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, "pleat train \(arguments)", file: file, line: line)
    let last = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
    return try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
}
