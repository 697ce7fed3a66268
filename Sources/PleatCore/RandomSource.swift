/// A small, fast, seedable generator (SplitMix64). `split()` derives an independent stream, so work
/// spread over threads or users stays deterministic for a given seed.
public struct RandomSource: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    @inline(__always) public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A generator for sub-task `index`, independent of this one's future output.
    public func split(_ index: UInt64) -> RandomSource {
        var copy = RandomSource(seed: state ^ (index &* 0xD1B5_4A32_D192_ED03))
        _ = copy.next()
        return copy
    }

    /// Uniform in [0, 1).
    @inline(__always) public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in 0..<n.
    @inline(__always) public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u = max(uniform(), 1e-300)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * uniform())
    }

    /// Exponential with the given mean.
    public mutating func exponential(mean: Double) -> Double { -mean * log(max(uniform(), 1e-300)) }
}

import Foundation
