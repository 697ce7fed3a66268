import Foundation

/// A single self-overwriting status line on stderr for long work: done/total, rate and ETA.
///
/// Redraws at most a few times a second; call `update` at chunk granularity, not per row.
/// On a non-terminal stderr (CI logs) it prints a plain line every few seconds instead.
public final class ProgressLine: @unchecked Sendable {
    private let label: String
    private let unit: String
    private let total: Int?
    private let start = Date()
    private lazy var lastDraw = start  // nothing is drawn for work that ends within a second
    private let interactive = isatty(STDERR_FILENO) != 0
    private let enabled: Bool
    public private(set) var done = 0
    /// Free text shown after the counts (e.g. the current loss).
    public var detail = ""

    public init(_ label: String, unit: String, total: Int? = nil, enabled: Bool = true) {
        self.label = label; self.unit = unit; self.total = total; self.enabled = enabled
    }

    /// `fraction` (0...1) gives the ETA when the total count is unknown, e.g. bytes read of a file.
    public func update(done: Int, fraction: Double? = nil) {
        self.done = done
        if let fraction { self.fraction = fraction }
        drawIfDue()
    }

    private var fraction: Double?

    public func drawIfDue() {
        guard enabled else { return }
        let now = Date()
        let interval = interactive ? 0.25 : 5.0
        guard now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        draw(now: now, final: false)
    }

    public func finish() {
        guard enabled, Date().timeIntervalSince(start) > 1 else { return }
        draw(now: Date(), final: true)
    }

    private func draw(now: Date, final: Bool) {
        let elapsed = max(now.timeIntervalSince(start), 1e-9)
        let rate = Double(done) / elapsed
        var text = "\(label): \(Format.count(done))"
        if let total, total > 0 { text += " / \(Format.count(total))" }
        if let f = fraction ?? total.map({ Double(done) / Double(max($0, 1)) }), f > 0 {
            text += " (\(Int(min(1, f) * 100))%)"
            if !final { text += ", ETA \(Format.duration(elapsed * (1 - min(1, f)) / f))" }
        }
        text += ", \(Format.count(Int(rate))) \(unit)/s, \(Format.duration(elapsed))"
        if !detail.isEmpty { text += ", " + detail }
        let line = interactive ? "\r\u{1B}[2K" + text + (final ? "\n" : "") : text + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
