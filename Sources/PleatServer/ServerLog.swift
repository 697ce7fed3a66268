import Foundation
import PleatCore
import PleatScoring

/// Where `pleat serve` writes its lines: errors and notices always (stderr by default), and one line per
/// request when an access log is given. As text for people, or as one JSON object per line (`json`) for
/// log shippers, which then need no parsing rules.
public struct ServerLog: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    /// Takes one line (without its newline) and writes it whole.
    public typealias Sink = @Sendable (String) -> Void

    public var format: Format
    let errors: Sink
    let access: Sink?

    public init(format: Format = .text, errors: @escaping Sink = ServerLog.standardError, access: Sink? = nil) {
        (self.format, self.errors, self.access) = (format, errors, access)
    }

    public static let standardError: Sink = FileLines(handle: .standardError).write

    /// Appends lines to the file at `path` ("-": standard output), created if needed (mode 0640).
    public static func file(_ path: String) throws -> Sink {
        if path == "-" { return FileLines(handle: .standardOutput).write }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw ScoringError("cannot open the access log \(path): \(String(cString: strerror(errno)))") }
        return FileLines(handle: FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)).write
    }

    /// A notice (the address served on, a shutdown).
    public func notice(_ text: String) { message(text, level: "info") }

    /// An error or a notice.
    func message(_ text: String, level: String = "error") {
        switch format {
        case .text: errors("pleat serve: " + text)
        case .json: errors(Self.json(["time": UTCTimestamp.now, "level": level, "message": text]))
        }
    }

    /// One request, when the access log is on.
    func request(_ entry: AccessEntry) {
        guard let access else { return }
        switch format {
        case .text:
            access("\(UTCTimestamp.now) \(entry.requestId) \(entry.method) \(entry.path) \(entry.status) "
                   + String(format: "%.3fms", entry.seconds * 1_000) + " \(entry.source?.rawValue ?? "-")")
        case .json:
            var fields: [String: Any] = ["time": UTCTimestamp.now, "request_id": entry.requestId, "method": entry.method, "path": entry.path,
                                         "status": entry.status, "duration_ms": (entry.seconds * 1e6).rounded() / 1e3]
            if let source = entry.source { fields["source"] = source.rawValue }
            if let user = entry.user { fields["user"] = user }
            access(Self.json(fields))
        }
    }

    /// What the access log says of one request.
    struct AccessEntry {
        var requestId: String, method: String, path: String, status: Int, seconds: Double
        var user: String? = nil, source: Recommendation.Source? = nil
    }

    private static func json(_ fields: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Whole lines to one file handle from many threads.
final class FileLines: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()

    init(handle: FileHandle) { self.handle = handle }

    func write(_ line: String) {
        let data = Data((line + "\n").utf8)
        lock.withLock { handle.write(data) }
    }
}
