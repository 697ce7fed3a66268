import PleatTensor

extension InputEmbedding {
    /// Adds each sequence's context vectors (`tokens` rows per sequence in `context`) to its first
    /// `counts[b]` positions of x (batch × length rows), whose ids are padding and so read as zeros.
    static func addContext(_ context: Tensor, tokens: Int, counts: [Int32], into x: Tensor, length: Int) {
        let d = x.columns
        for b in counts.indices {
            for i in 0..<Int(counts[b]) {
                let h = x.pointer + (b * length + i) * d, c = context.pointer + (b * tokens + i) * d
                for j in 0..<d { h[j] += c[j] }
            }
        }
    }

    /// The context's gradient: the rows of dx at each sequence's context positions (0 elsewhere).
    static func gatherContextGradient(_ dx: Tensor, tokens: Int, counts: [Int32], into contextGradient: Tensor, length: Int) {
        let d = dx.columns
        contextGradient.zero()
        for b in counts.indices {
            for i in 0..<Int(counts[b]) {
                (contextGradient.pointer + (b * tokens + i) * d).update(from: dx.pointer + (b * length + i) * d, count: d)
            }
        }
    }
}
