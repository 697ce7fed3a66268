import PleatCore

/// Draws negatives for sampled-metric evaluation (the protocol of papers that rank the target against
/// 100 sampled items): uniformly, or in proportion to item popularity, never the target or a seen item.
public struct NegativeSampler: Sendable {
    public enum Distribution: String, Sendable, Codable, CaseIterable { case uniform, popularity }

    let cumulative: [Double]  // popularity: running sums over item ids 1..V
    let items: Int
    let distribution: Distribution

    /// `counts[i]` is item i's training frequency (index 0, padding, is ignored).
    public init(counts: [Int], distribution: Distribution) {
        items = counts.count - 1
        self.distribution = distribution
        var running = 0.0
        cumulative = counts.enumerated().map { i, c in
            if i > 0 { running += Double(c) }
            return running
        }
    }

    public func sample(_ n: Int, target: Int32, seen: Set<Int32>, rng: inout RandomSource) -> [Int32] {
        var chosen: [Int32] = []
        var taken = Set<Int32>()
        let available = items - 1 - seen.subtracting([target]).count
        precondition(available >= n, "only \(available) items can be negatives, \(n) asked")
        while chosen.count < n {
            let id = draw(&rng)
            guard id != target, !seen.contains(id), taken.insert(id).inserted else { continue }
            chosen.append(id)
        }
        return chosen
    }

    private func draw(_ rng: inout RandomSource) -> Int32 {
        switch distribution {
        case .uniform: return Int32(1 + rng.below(items))
        case .popularity:
            let x = rng.uniform() * cumulative.last!
            var lo = 1, hi = items
            while lo < hi {
                let mid = (lo + hi) / 2
                if cumulative[mid] > x { hi = mid } else { lo = mid + 1 }
            }
            return Int32(lo)
        }
    }
}
