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
        // One draw from the caller's generator seeds a stream per chunk: deterministic for a given
        // seed and core count.
        let streams = RandomSource(seed: rng!.next())
        let (xp, yp, mp) = (x.pointer, y.pointer, mask.pointer)
        Parallel.forRows(x.count, minimumPerWorker: 16_384) { range in
            var local = streams.split(UInt64(range.lowerBound))
            for i in range {
                let m: Float = Float(local.uniform()) < keep ? scale : 0
                mp[i] = m
                yp[i] = xp[i] * m
            }
        }
    }

    public func backward(_ dy: Tensor, mask: Tensor, dx: Tensor) {
        let (dyp, mp, dxp) = (dy.pointer, mask.pointer, dx.pointer)
        Parallel.forRows(dy.count, minimumPerWorker: 16_384) { range in
            for i in range { dxp[i] = dyp[i] * mp[i] }
        }
    }
}
