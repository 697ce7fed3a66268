import Foundation
import PleatCore

/// Is ranker A better than ranker B on the same users, or is the gap noise? Compares per-user metric
/// values pairwise: a paired t-test (two-sided p-value) and a bootstrap 95% interval of the mean
/// difference (users resampled with replacement), which needs no normality assumption.
public struct PairedComparison: Sendable, Codable, Equatable {
    public var users: Int
    /// mean(a - b).
    public var meanDifference: Double
    public var ciLow: Double
    public var ciHigh: Double
    public var t: Double
    public var pValue: Double

    public init(_ a: [Double], _ b: [Double], resamples: Int = 1_000, seed: UInt64 = 1) {
        precondition(a.count == b.count && !a.isEmpty, "paired samples need equal, non-zero lengths")
        let d = zip(a, b).map { $0 - $1 }, n = Double(d.count)
        let mean = d.reduce(0, +) / n
        let variance = d.count > 1 ? d.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
        users = d.count
        meanDifference = mean
        if variance > 0 {
            t = mean / (variance / n).squareRoot()
            pValue = 2 * StudentT.upperTail(abs(t), degreesOfFreedom: n - 1)
        } else {
            (t, pValue) = mean == 0 ? (0, 1) : (mean > 0 ? .infinity : -.infinity, 0)
        }
        var rng = RandomSource(seed: seed)
        var means = (0..<resamples).map { _ in
            var sum = 0.0
            for _ in 0..<d.count { sum += d[rng.below(d.count)] }
            return sum / n
        }
        means.sort()
        ciLow = means[Int(0.025 * Double(resamples - 1))]
        ciHigh = means[Int((0.975 * Double(resamples - 1)).rounded(.up))]
    }
}

/// Student's t distribution tail, through the regularized incomplete beta function.
enum StudentT {
    /// P(T > t) for t ≥ 0.
    static func upperTail(_ t: Double, degreesOfFreedom v: Double) -> Double {
        0.5 * incompleteBeta(v / (v + t * t), a: v / 2, b: 0.5)
    }

    /// I_x(a, b) by its continued fraction (Lentz's method), using the symmetry I_x(a,b) = 1 − I_{1−x}(b,a)
    /// where the fraction converges slowly.
    static func incompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        if x > (a + 1) / (a + b + 2) { return 1 - incompleteBeta(1 - x, a: b, b: a) }
        let gammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logFront: Double = gammas + a * log(x) + b * log(1 - x)
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        d = 1 / (abs(d) < tiny ? tiny : d)
        var f = d
        for m in 1...300 {
            let m = Double(m)
            let even: Double = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + even * d; d = 1 / (abs(d) < tiny ? tiny : d)
            c = 1 + even / c; c = abs(c) < tiny ? tiny : c
            f *= d * c
            let odd: Double = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + odd * d; d = 1 / (abs(d) < tiny ? tiny : d)
            c = 1 + odd / c; c = abs(c) < tiny ? tiny : c
            let step = d * c
            f *= step
            if abs(step - 1) < 1e-12 { break }
        }
        return exp(logFront) * f / a
    }
}
