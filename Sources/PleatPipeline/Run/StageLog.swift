import Foundation
import PleatCore

/// The pipeline's one progress view on stderr: a numbered header as each stage starts (the stages' own
/// progress lines show rate and ETA under it), and a table of stage times at the end.
final class StageLog {
    private let total: Int
    private var current = 0
    private var started = Date()
    private var label = ""
    private(set) var finished: [(String, Double)] = []
    let write: (String) -> Void

    init(total: Int, write: @escaping (String) -> Void) { (self.total, self.write) = (total, write) }

    func begin(_ label: String) {
        end()
        current += 1
        (self.label, started) = (label, Date())
        write("[\(current)/\(total)] \(label)")
    }

    func end() {
        guard !label.isEmpty else { return }
        finished.append((label, Date().timeIntervalSince(started)))
        label = ""
    }

    var summary: String {
        end()
        var table = TextTable(["stage", "time"])
        for (label, seconds) in finished { table.add([label, Format.duration(seconds)]) }
        table.add(["total", Format.duration(finished.reduce(0) { $0 + $1.1 })])
        return table.render()
    }
}
