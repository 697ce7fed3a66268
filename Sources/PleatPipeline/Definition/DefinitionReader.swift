import Foundation
import Yams

/// Reads a YAML definition into typed values while collecting every problem with its line and key
/// path, so one run of the checker reports all mistakes in a file at once.
final class DefinitionReader {
    let file: String
    /// Relative paths in the file are relative to its directory.
    let directory: URL
    private(set) var problems: [DefinitionError.Problem] = []

    /// A node and where it is.
    struct Value {
        let node: Node
        let key: String
        var line: Int? { node.mark.map { $0.line } }
    }

    init(file: String) {
        self.file = file
        directory = URL(fileURLWithPath: file).deletingLastPathComponent()
    }

    /// The file's top-level mapping; nil (with a problem) when unreadable or not a mapping.
    func root() -> Value? {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            problem(nil, "cannot read the file (\(error.localizedDescription))"); return nil
        }
        do {
            guard let node = try Yams.compose(yaml: text) else { problem(nil, "the file is empty"); return nil }
            return Value(node: node, key: "")
        } catch {
            problem(nil, "not valid YAML: \(error)"); return nil
        }
    }

    func problem(_ value: Value?, _ reason: String, key: String? = nil) {
        problems.append(.init(file: file, line: value?.line, key: key ?? value?.key ?? "", reason: reason))
    }

    /// Throws the problems found so far, in file order.
    func check() throws {
        if !problems.isEmpty { throw DefinitionError(problems: problems.enumerated().sorted { ($0.1.line ?? 0, $0.0) < ($1.1.line ?? 0, $1.0) }.map(\.1)) }
    }

    /// `value`, which a reading step left nil only after recording why: so the problems found so far are
    /// the error (and `key` is named should a step ever return nil without one).
    func required<T>(_ value: T?, key: String) throws -> T {
        if let value { return value }
        try check()
        throw DefinitionError(problems: [.init(file: file, line: nil, key: key, reason: "missing or invalid")])
    }

    // MARK: Shapes

    /// The mapping's entries by key; keys outside `allowed` are problems. `required` keys must be present.
    func mapping(_ value: Value, allowed: [String], required: [String] = []) -> [String: Value] {
        guard let mapping = value.node.mapping else { problem(value, "expected a mapping of \(allowed.joined(separator: ", "))"); return [:] }
        var out: [String: Value] = [:]
        for (k, v) in mapping {
            let name = k.string ?? "?", path = value.key.isEmpty ? name : "\(value.key).\(name)"
            guard allowed.contains(name) else {
                problem(Value(node: k, key: path), "unknown key (expected one of: \(allowed.joined(separator: ", ")))"); continue
            }
            out[name] = Value(node: v, key: path)
        }
        for name in required where out[name] == nil { problem(value, "missing required key", key: value.key.isEmpty ? name : "\(value.key).\(name)") }
        return out
    }

    /// Every entry of a mapping whose keys are free (e.g. training settings), in file order.
    func entries(_ value: Value) -> [(String, Value)] {
        guard let mapping = value.node.mapping else { problem(value, "expected a mapping"); return [] }
        return mapping.map { k, v in (k.string ?? "?", Value(node: v, key: "\(value.key).\(k.string ?? "?")")) }
    }

    func list(_ value: Value) -> [Value] {
        if let sequence = value.node.sequence { return sequence.enumerated().map { Value(node: $1, key: "\(value.key)[\($0)]") } }
        problem(value, "expected a list"); return []
    }

    // MARK: Scalars

    func string(_ value: Value?) -> String? {
        guard let value else { return nil }
        guard let s = value.node.scalar?.string else { problem(value, "expected a text value"); return nil }
        return s
    }

    func int(_ value: Value?, in range: ClosedRange<Int>) -> Int? {
        guard let value, let s = string(value) else { return nil }
        guard let n = Int(s.replacingOccurrences(of: "_", with: "")), range.contains(n) else {
            problem(value, "expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(s)'"); return nil
        }
        return n
    }

    func double(_ value: Value?, in range: ClosedRange<Double>) -> Double? {
        guard let value, let s = string(value) else { return nil }
        guard let x = Double(s), range.contains(x) else { problem(value, "expected a number from \(range.lowerBound) to \(range.upperBound), got '\(s)'"); return nil }
        return x
    }

    func bool(_ value: Value?) -> Bool? {
        guard let value, let s = string(value) else { return nil }
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: problem(value, "expected true or false, got '\(s)'"); return nil
        }
    }

    /// One of a fixed set of words (an enum's raw values).
    func choice<T: RawRepresentable & CaseIterable>(_ value: Value?, _: T.Type) -> T? where T.RawValue == String {
        guard let value, let s = string(value) else { return nil }
        guard let v = T(rawValue: s) else { problem(value, "'\(s)' is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))"); return nil }
        return v
    }

    /// A path relative to the file's directory; `mustExist` files that are missing are problems.
    func path(_ value: Value?, mustExist: Bool) -> String? {
        guard let value, let s = string(value) else { return nil }
        let url = URL(fileURLWithPath: (s as NSString).expandingTildeInPath, relativeTo: directory).standardizedFileURL
        if mustExist && !FileManager.default.fileExists(atPath: url.path) { problem(value, "file not found: \(url.path)") }
        return url.path
    }

    /// A scalar (or list of scalars) as it would be written after `--set key=`: numbers and booleans as
    /// they are, text quoted.
    func assignmentValue(_ value: Value) -> String? {
        if let list = value.node.sequence {
            let items = list.compactMap { assignmentValue(Value(node: $0, key: value.key)) }
            return "[" + items.joined(separator: ", ") + "]"
        }
        guard let scalar = value.node.scalar else { problem(value, "expected a value"); return nil }
        let s = scalar.string
        if scalar.style == .plain, Double(s) != nil || ["true", "false", "null"].contains(s) { return s }
        guard let quoted = try? JSONEncoder().encode(s) else { problem(value, "cannot be written as a config value"); return nil }
        return String(decoding: quoted, as: UTF8.self)
    }
}
