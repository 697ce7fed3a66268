import PleatCore

/// Draws negatives for sampled-metric evaluation (the protocol of papers that rank the target against
/// 100 sampled items): uniformly, or in proportion to item popularity, never the target or a seen item.
public struct NegativeSampler: Sendable {
    public enum Distribution: String, Sendable, Codable, CaseIterable { case uniform, popularity }

    let cumulative: [Double]  // popularity: running sums over item ids 1..V
    let totalCount: Double
    let items: Int
    let distribution: Distribution
    /// Items any draw can return: every item, or by popularity those with training events.
    let drawableItems: Int

    /// `counts[i]` is item i's training frequency (index 0, padding, is ignored).
    public init(counts: [Int], distribution: Distribution) {
        items = counts.count - 1
        self.distribution = distribution
        var running = 0.0
        cumulative = counts.enumerated().map { i, c in
            if i > 0 { running += Double(c) }
            return running
        }
        totalCount = running
        drawableItems = distribution == .uniform ? items : counts.dropFirst().filter { $0 > 0 }.count
    }

    /// `n` distinct negatives, or all there are when fewer items can be drawn: never the target or a
    /// seen item, and by popularity never an item without training events (it has no weight).
    public func sample(_ n: Int, target: Int32, seen: Set<Int32>, rng: inout RandomSource) -> [Int32] {
        let excluded = seen.union([target]).filter { $0 >= 1 && Int($0) <= items && drawable($0) }.count
        let count = min(n, drawableItems - excluded)
        var chosen: [Int32] = []
        var taken = Set<Int32>()
        while chosen.count < count {
            let id = draw(&rng)
            guard id != target, !seen.contains(id), taken.insert(id).inserted else { continue }
            chosen.append(id)
        }
        return chosen
    }

    private func drawable(_ id: Int32) -> Bool {
        distribution == .uniform || cumulative[Int(id)] > cumulative[Int(id) - 1]
    }

    private func draw(_ rng: inout RandomSource) -> Int32 {
        switch distribution {
        case .uniform: return Int32(1 + rng.below(items))
        case .popularity:
            let x = rng.uniform() * totalCount
            var lo = 1, hi = items
            while lo < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] > x { hi = mid } else { lo = mid + 1 }
            }
            return Int32(lo)
        }
    }
}
