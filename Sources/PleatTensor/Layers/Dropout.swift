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
        guard probability > 0, let seed = rng?.next() else {
            if x !== y { y.copy(from: x) }
            mask.fill(1)
            return
        }
        let keep = 1 - probability
        // One draw from the caller's generator seeds a stream per chunk: deterministic for a given
        // seed and core count.
        let streams = RandomSource(seed: seed)
        let (xp, yp, mp) = (x.pointer, y.pointer, mask.pointer)
        Parallel.forRows(x.count, minimumPerWorker: 16_384) { range in
            var local = streams.split(UInt64(range.lowerBound))
            Self.apply(xp + range.lowerBound, into: yp + range.lowerBound, mask: mp + range.lowerBound, count: range.count,
                       keep: keep, rng: &local)
        }
    }

    /// m[i] = 1/keep with probability `keep`, else 0, and y[i] = x[i]·m[i] (y may be x). Each 64-bit
    /// draw decides four entries by 16 bits each (keep is rounded to a multiple of 2⁻¹⁶, at most 8·10⁻⁶
    /// off): a quarter of the generator's work of one draw per entry.
    @inline(__always)
    public static func apply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, mask m: UnsafeMutablePointer<Float>,
                             count: Int, keep: Float, rng: inout RandomSource) {
        let threshold = UInt64((Double(keep) * 65_536).rounded()), scale = 1 / keep
        var i = 0
        while i + 4 <= count {
            let bits = rng.next()
            let m0: Float = bits & 0xFFFF < threshold ? scale : 0, m1: Float = (bits >> 16) & 0xFFFF < threshold ? scale : 0
            let m2: Float = (bits >> 32) & 0xFFFF < threshold ? scale : 0, m3: Float = bits >> 48 < threshold ? scale : 0
            (m[i], m[i + 1], m[i + 2], m[i + 3]) = (m0, m1, m2, m3)
            (y[i], y[i + 1], y[i + 2], y[i + 3]) = (x[i] * m0, x[i + 1] * m1, x[i + 2] * m2, x[i + 3] * m3)
            i += 4
        }
        var bits = i < count ? rng.next() : 0
        while i < count {
            let mi: Float = bits & 0xFFFF < threshold ? scale : 0
            m[i] = mi
            y[i] = x[i] * mi
            bits >>= 16
            i += 1
        }
    }

    public func backward(_ dy: Tensor, mask: Tensor, dx: Tensor) {
        let (dyp, mp, dxp) = (dy.pointer, mask.pointer, dx.pointer)
        Parallel.forRows(dy.count, minimumPerWorker: 16_384) { range in
            for i in range { dxp[i] = dyp[i] * mp[i] }
        }
    }
}
