import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
import PleatCore
import PleatScoring
import PleatServer
import PleatTestSupport

/// What an operator reads: the access log (text and JSON) and `/metrics`' serving and process lines.
final class OperationsTests: XCTestCase {
    func testAccessLogAndMetricsSayWhatServes() async throws {
        let f = try WalkFixture()
        defer { f.remove() }
        let scoredBefore = Date().timeIntervalSince1970
        _ = try f.score(f.sasrec)
        for format in ServerLog.Format.allCases {
            let access = LogBox(), errors = LogBox()
            let server = RecommendationServer(recommender: try Recommender(databaseURL: f.url, cachePath: f.cachePath),
                                              log: ServerLog(format: format, errors: { errors.add($0) }, access: { access.add($0) }))
            let (port, task) = try await ServerResilienceTests.start(server)
            func get(_ path: String) async throws -> String {
                String(decoding: try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!).0, as: UTF8.self)
            }
            _ = try await get("/v1/users/u5/recommendations?k=3")
            _ = try await get("/v1/users/u5/recommendations?k=0")
            var post = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/recommendations")!)
            (post.httpMethod, post.httpBody) = ("POST", Data(#"{"user":"u6","events":[{"item":"i1"}]}"#.utf8))
            _ = try await URLSession.shared.data(for: post)
            let metrics = try await get("/metrics")
            task.cancel()

            XCTAssertEqual(access.lines.count, 4, "\(format): one line per request: \(access.lines)")
            switch format {
            case .text:
                let first = access.lines[0].split(separator: " ").map(String.init)
                XCTAssertEqual(first.count, 7, access.lines[0])
                XCTAssertNotNil(ISO8601DateFormatter.withFractions.date(from: first[0]), first[0])
                XCTAssertEqual(Array(first[2...4]), ["GET", "/v1/users/u5/recommendations?k=3", "200"])
                XCTAssertTrue(first[5].hasSuffix("ms") && Double(first[5].dropLast(2)) != nil, first[5])
                XCTAssertEqual(first[6], "cache")
                XCTAssertTrue(access.lines[1].contains(" 400 ") && access.lines[1].hasSuffix(" -"), access.lines[1])
            case .json:
                let entries = try access.lines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], $0) }
                XCTAssertEqual(entries.map { $0["status"] as? Int }, [200, 400, 200, 200])
                XCTAssertEqual(entries.map { $0["method"] as? String }, ["GET", "GET", "POST", "GET"])
                XCTAssertEqual(entries.map { $0["source"] as? String }, ["cache", nil, "live", nil])
                XCTAssertEqual(entries.map { $0["user"] as? String }, ["u5", "u5", "u6", nil])
                XCTAssertEqual(entries[3]["path"] as? String, "/metrics")
                XCTAssertTrue(entries.allSatisfy { ($0["duration_ms"] as? Double ?? -1) >= 0 && $0["request_id"] is String && $0["time"] is String })
            }
            XCTAssertTrue(errors.lines.isEmpty, "\(errors.lines)")

            XCTAssertTrue(metrics.contains(#"pleat_active_model_info{model_id="\#(f.sasrec.id)"} 1"#), metrics)
            XCTAssertTrue(metrics.contains("pleat_cache_users 200\n"), metrics)
            let age = try XCTUnwrap(Self.value("pleat_cache_age_seconds", in: metrics))
            XCTAssertTrue(age >= 0 && age <= Date().timeIntervalSince1970 - scoredBefore + 1, "cache age \(age)")
            XCTAssertGreaterThan(try XCTUnwrap(Self.value("process_resident_memory_bytes", in: metrics)), 1e6)
            XCTAssertGreaterThan(try XCTUnwrap(Self.value("process_threads", in: metrics)), 1)
            XCTAssertGreaterThan(try XCTUnwrap(Self.value("process_open_fds", in: metrics)), 2)
            XCTAssertGreaterThan(try XCTUnwrap(Self.value("process_cpu_seconds_total", in: metrics)), 0)
        }
    }

    /// An error line in the JSON format is one object with a level.
    func testJSONErrorLines() throws {
        let errors = LogBox()
        ServerLog(format: .json, errors: { errors.add($0) }).notice("serving on http://127.0.0.1:1")
        let line = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(errors.lines[0].utf8)) as? [String: String])
        XCTAssertEqual(line["level"], "info")
        XCTAssertEqual(line["message"], "serving on http://127.0.0.1:1")
        XCTAssertNotNil(ISO8601DateFormatter.withFractions.date(from: line["time"] ?? ""))
    }

    static func value(_ name: String, in metrics: String) -> Double? {
        metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }
}

extension ISO8601DateFormatter {
    static var withFractions: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}
