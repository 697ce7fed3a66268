import PleatCore

/// Inverted dropout: y = x ⊙ m/(1 − p). The mask (0 or 1/(1 − p)) is kept for the backward pass.
public struct Dropout {
    public let probability: Float

    public init(_ probability: Float) {
        precondition((0..<1).contains(probability), "dropout probability must be in [0, 1)")
        self.probability = probability
    }

    /// Training mode draws a new mask from `rng`; evaluation (`rng == nil`) copies x.
    public func forward(_ x: Tensor, into y: Tensor, mask: Tensor, rng: inout RandomSource?) {
        guard probability > 0, rng != nil else {
            if x !== y { y.copy(from: x) }
            mask.fill(1)
            return
        }
        let keep = 1 - probability, scale = 1 / keep
        for i in 0..<x.count {
            let m: Float = Float(rng!.uniform()) < keep ? scale : 0
            mask[i] = m
            y[i] = x[i] * m
        }
    }

    public func backward(_ dy: Tensor, mask: Tensor, dx: Tensor) {
        for i in 0..<dy.count { dx[i] = dy[i] * mask[i] }
    }
}
