import Foundation

/// A small inline SVG chart (no scripts, no external files) so a report stays one self-contained file:
/// grouped bars or lines over categorical x positions, a zero-based y axis, and a legend.
struct SVGChart {
    enum Style { case bars, lines }

    var title: String
    var yLabel: String
    var categories: [String]
    var series: [(name: String, values: [Double?])]
    var style: Style
    /// Palette slot of each series (default: its position), so one ranker keeps its colour across charts.
    var colors: [Int]? = nil
    var width = 600.0, height = 300.0

    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]

    func render() -> String {
        let left = 56.0, right = 150.0, top = 34.0, bottom = 46.0
        let plotW = width - left - right, plotH = height - top - bottom
        let top_ = Self.niceCeiling(series.flatMap { $0.values.compactMap { $0 } }.max() ?? 1)
        func y(_ v: Double) -> Double { top + plotH * (1 - v / top_) }
        let slot = plotW / Double(max(categories.count, 1))
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" \
            font-family="system-ui, sans-serif" font-size="11" role="img" aria-label="\(escape(title))">
            <text x="\(left)" y="18" font-size="13" font-weight="600">\(escape(title))</text>

            """
        for i in 0...4 {
            let v = top_ * Double(i) / 4
            out += "<line x1=\"\(left)\" x2=\"\(left + plotW)\" y1=\"\(f(y(v)))\" y2=\"\(f(y(v)))\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(left - 6)\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\" fill=\"#555\">\(Self.tick(v))</text>\n"
        }
        out += "<text transform=\"translate(14,\(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" fill=\"#555\">\(escape(yLabel))</text>\n"
        for (i, label) in categories.enumerated() {
            out += "<text x=\"\(f(left + slot * (Double(i) + 0.5)))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\" fill=\"#333\">\(escape(label))</text>\n"
        }
        for (s, entry) in series.enumerated() {
            let color = Self.palette[(colors?[s] ?? s) % Self.palette.count]
            switch style {
            case .bars:
                let barW = slot * 0.8 / Double(series.count)
                for (i, value) in entry.values.enumerated() {
                    guard let value else { continue }
                    let x = left + slot * Double(i) + slot * 0.1 + barW * Double(s)
                    out += "<rect x=\"\(f(x))\" y=\"\(f(y(value)))\" width=\"\(f(barW - 1))\" height=\"\(f(top + plotH - y(value)))\" fill=\"\(color)\">"
                    out += "<title>\(escape(entry.name)) \(escape(categories[i])): \(String(format: "%.4f", value))</title></rect>\n"
                }
            case .lines:
                let points = entry.values.enumerated().compactMap { i, v in v.map { (left + slot * (Double(i) + 0.5), y($0)) } }
                out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " "))\"/>\n"
                for p in points { out += "<circle cx=\"\(f(p.0))\" cy=\"\(f(p.1))\" r=\"2.5\" fill=\"\(color)\"/>" }
            }
            let ly = top + 14 * Double(s)
            out += "<rect x=\"\(f(left + plotW + 12))\" y=\"\(f(ly))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
            out += "<text x=\"\(f(left + plotW + 26))\" y=\"\(f(ly + 9))\">\(escape(Self.shorten(entry.name)))</text>\n"
        }
        return out + "</svg>"
    }

    /// 1, 2, 2.5 or 5 times a power of ten, at or above `v`.
    static func niceCeiling(_ v: Double) -> Double {
        guard v > 0 else { return 1 }
        let p = pow(10, floor(log10(v)))
        return [1, 2, 2.5, 5, 10].map { $0 * p }.first { $0 >= v * 1.0001 } ?? 10 * p
    }

    static func tick(_ v: Double) -> String { v == 0 ? "0" : v >= 10 ? String(format: "%.0f", v) : String(format: "%.3g", v) }

    /// Legend entries are cut to fit beside the plot.
    static func shorten(_ s: String) -> String { s.count > 22 ? String(s.prefix(21)) + "…" : s }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// Text made safe inside HTML and SVG.
func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
