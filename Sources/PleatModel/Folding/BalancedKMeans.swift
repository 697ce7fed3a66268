import PleatCore

/// k-means on L2-normalised vectors (cosine) with a capacity per cluster, so that fold sizes stay even:
/// the folding cost grows with Σ_g L_g², which one giant cluster would ruin. Each round assigns points
/// in order of how strongly they prefer their best centre, to the best centre that still has room.
public enum BalancedKMeans {
    /// Cluster ids 0..<k for each of the `count` vectors (rows of `vectors`, `dimension` wide).
    public static func cluster(_ vectors: [Float], count: Int, dimension d: Int, clusters k: Int, slack: Double = 1.1,
                               iterations: Int = 10, seed: UInt64) -> [Int32] {
        precondition(count > 0 && k > 0)
        let k = min(k, count)
        var points = vectors
        for i in 0..<count { normalize(&points, row: i, d) }
        var rng = RandomSource(seed: seed)
        var centres = [Float](repeating: 0, count: k * d)
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
        for c in 0..<k { for j in 0..<d { centres[c * d + j] = points[order[c] * d + j] } }
        let capacity = Int((Double(count) / Double(k) * slack).rounded(.up))
        var assignment = [Int32](repeating: 0, count: count)
        var similarity = [Float](repeating: 0, count: count * k)
        for _ in 0..<iterations {
            for i in 0..<count {
                for c in 0..<k {
                    var s: Float = 0
                    for j in 0..<d { s += points[i * d + j] * centres[c * d + j] }
                    similarity[i * k + c] = s
                }
            }
            // Points that care most about their favourite centre choose first.
            let preference = (0..<count).map { i -> Float in
                var best: Float = -.infinity, second: Float = -.infinity
                for c in 0..<k {
                    let s = similarity[i * k + c]
                    if s > best { (second, best) = (best, s) } else if s > second { second = s }
                }
                return best - (second == -.infinity ? best : second)
            }
            var sizes = [Int](repeating: 0, count: k)
            for i in (0..<count).sorted(by: { preference[$0] > preference[$1] || (preference[$0] == preference[$1] && $0 < $1) }) {
                var best = -1, bestScore: Float = -.infinity
                for c in 0..<k where sizes[c] < capacity && similarity[i * k + c] > bestScore { (best, bestScore) = (c, similarity[i * k + c]) }
                assignment[i] = Int32(best)
                sizes[best] += 1
            }
            centres = [Float](repeating: 0, count: k * d)
            for i in 0..<count { let c = Int(assignment[i]); for j in 0..<d { centres[c * d + j] += points[i * d + j] } }
            for c in 0..<k where sizes[c] > 0 { normalize(&centres, row: c, d) }
        }
        return assignment
    }

    private static func normalize(_ x: inout [Float], row: Int, _ d: Int) {
        var s: Float = 0
        for j in 0..<d { s += x[row * d + j] * x[row * d + j] }
        let scale = 1 / max(s.squareRoot(), 1e-6)
        for j in 0..<d { x[row * d + j] *= scale }
    }
}
