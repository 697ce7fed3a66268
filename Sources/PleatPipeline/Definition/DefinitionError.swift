/// Problems in a pipeline or job file, found before any work starts: each names the file, the line,
/// the key (as a path such as `models[0].settings.epochs`) and the reason.
public struct DefinitionError: Error, CustomStringConvertible {
    public struct Problem: Sendable, CustomStringConvertible {
        public let file: String
        public let line: Int?
        public let key: String
        public let reason: String
        public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(key.isEmpty ? "(file)" : key): \(reason)" }
    }

    public let problems: [Problem]
    public var description: String {
        (problems.count == 1 ? "" : "\(problems.count) problems:\n") + problems.map(\.description).joined(separator: "\n")
    }
}
