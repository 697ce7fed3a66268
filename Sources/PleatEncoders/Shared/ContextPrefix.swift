import PleatTensor

/// The context vectors (fold tokens) a `ContextEncoder`'s sequences may start with: up to `tokens` rows
/// per sequence in `values`, how many each sequence has in the current pass, and their gradient. Their
/// positions hold padding ids, which embed as zeros, so a context vector is added to the input row.
final class ContextPrefix {
    let tokens: Int
    let values: Tensor, gradient: Tensor
    /// Context vectors per sequence in the current pass (0 without context).
    private(set) var counts: [Int32]

    init(tokens: Int, batch: Int, dimension d: Int) {
        self.tokens = tokens
        (values, gradient) = (Tensor([batch * tokens, d]), Tensor([batch * tokens, d]))
        counts = [Int32](repeating: 0, count: batch)
    }

    /// Sets this pass's counts (nil: no context).
    func use(_ contextCounts: [Int32]?) {
        for b in counts.indices { counts[b] = contextCounts?[b] ?? 0 }
    }

    /// Adds each sequence's context vectors to its first positions of x (batch × length rows).
    func add(into x: Tensor, length: Int) {
        let d = x.columns
        for b in counts.indices {
            for i in 0..<Int(counts[b]) {
                let h = x.pointer + (b * length + i) * d, c = values.pointer + (b * tokens + i) * d
                for j in 0..<d { h[j] += c[j] }
            }
        }
    }

    /// The context's gradient: the rows of dx at each sequence's context positions (0 elsewhere).
    func gatherGradient(from dx: Tensor, length: Int) {
        let d = dx.columns
        gradient.zero()
        for b in counts.indices {
            for i in 0..<Int(counts[b]) {
                (gradient.pointer + (b * tokens + i) * d).update(from: dx.pointer + (b * length + i) * d, count: d)
            }
        }
    }
}
