import CPleatKernels
import Foundation
import PleatCore

/// Vectorised elementary functions for the hot loops: 8 lanes (one AVX2 register) in Swift, and the
/// row kernels 16 lanes wide (CPleatKernels) on a CPU with AVX-512F, with the same arithmetic.
public enum VectorMath {
    public typealias Lanes = SIMD8<Float>

    /// Lanes of the row kernels (exp-shift-and-sum, SiLU, GELU and their gradients): 16 where the CPU has
    /// AVX-512F, else 8. `PLEAT_VECTOR_WIDTH=8` keeps 8 on any CPU (the tests run both widths). Chosen once.
    public static let width: Int = {
        if ProcessInfo.processInfo.environment["PLEAT_VECTOR_WIDTH"] == "8" { return 8 }
        return CPU.current.features.contains(.avx512f) ? 16 : 8
    }()

    /// eˣ for each lane, relative error below 5·10⁻⁷ on [−87, 88]; 0 below −87.3.
    /// x = n·ln2 + r with |r| ≤ ln2/2, eʳ by a degree-6 polynomial, 2ⁿ through the exponent bits.
    /// Only lane-wise float and integer arithmetic: generic conversions and `rounded` would not vectorise.
    @inline(__always)
    public static func exp(_ x: Lanes) -> Lanes {
        let low = Lanes(repeating: -87.3), high = Lanes(repeating: 88.3)
        var clamped = x.replacing(with: low, where: x .< low)
        clamped = clamped.replacing(with: high, where: clamped .> high)
        // Adding 1.5·2²³ rounds to an integer and leaves it in the low mantissa bits.
        let magic = Lanes(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        let r = clamped - n * 0.693_145_75 - n * 1.428_606_8e-6
        var p = Lanes(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((integer &+ 127) &<< 23, to: Lanes.self)
        return (p * scale).replacing(with: 0, where: x .< low)
    }

    /// Σ eˣ⁻ᵐ over a row, writing eˣ⁻ᵐ in place; returns the sum.
    @inline(__always)
    public static func expShiftAndSum(_ row: UnsafeMutablePointer<Float>, count: Int, shift m: Float) -> Float {
        if width == 16 { return pleat512_exp_shift_sum(row, Int32(count), m) }
        return expShiftAndSum8(row, count: count, shift: m)
    }

    /// The 8-lane form.
    @inline(__always)
    static func expShiftAndSum8(_ row: UnsafeMutablePointer<Float>, count: Int, shift m: Float) -> Float {
        var sum = Lanes()
        var j = 0
        let mv = Lanes(repeating: m)
        while j + 8 <= count {
            let e = exp(UnsafeRawPointer(row + j).loadUnaligned(as: Lanes.self) - mv)
            UnsafeMutableRawPointer(row + j).storeBytes(of: e, as: Lanes.self)
            sum += e
            j += 8
        }
        var total = sum.sum()
        while j < count {
            let e = exp(Lanes(repeating: row[j] - m))[0]
            row[j] = e
            total += e
            j += 1
        }
        return total
    }

    /// The offset of the first entry of `row[0..<count]` above `threshold` (NaN is not), or `count`:
    /// top-K's scan past the entries that cannot enter its list.
    @inline(__always)
    public static func firstAbove(_ row: UnsafePointer<Float>, count: Int, threshold: Float) -> Int {
        if width == 16 { return Int(pleat512_first_above(row, Int32(count), threshold)) }
        return firstAbove8(row, count: count, threshold: threshold)
    }

    /// The 8-lane form.
    @inline(__always)
    static func firstAbove8(_ row: UnsafePointer<Float>, count: Int, threshold: Float) -> Int {
        let t = Lanes(repeating: threshold)
        var j = 0
        while j + 8 <= count && !any(UnsafeRawPointer(row + j).loadUnaligned(as: Lanes.self) .> t) { j += 8 }
        while j < count && !(row[j] > threshold) { j += 1 }
        return j
    }

    /// Σ a[i]·b[i] (8 lanes at a time: a scalar loop's sum is not reordered into vectors by the compiler).
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var sum = Lanes()
        var i = 0
        while i + 8 <= count {
            sum += UnsafeRawPointer(a + i).loadUnaligned(as: Lanes.self) * UnsafeRawPointer(b + i).loadUnaligned(as: Lanes.self)
            i += 8
        }
        var total = sum.sum()
        while i < count { total += a[i] * b[i]; i += 1 }
        return total
    }

    /// Σ x[i] (8 lanes at a time).
    @inline(__always)
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = Lanes()
        var i = 0
        while i + 8 <= count { lanes += UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self); i += 8 }
        var total = lanes.sum()
        while i < count { total += x[i]; i += 1 }
        return total
    }

    /// Σ (x[i] − m)².
    @inline(__always)
    public static func squaredDeviations(_ x: UnsafePointer<Float>, from m: Float, count: Int) -> Float {
        var lanes = Lanes()
        var i = 0
        while i + 8 <= count {
            let c = UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self) - m
            lanes += c * c
            i += 8
        }
        var total = lanes.sum()
        while i < count { let c = x[i] - m; total += c * c; i += 1 }
        return total
    }

    /// out[i] = (x[i] − mean)·rstd.
    @inline(__always)
    public static func normalize(_ x: UnsafePointer<Float>, mean: Float, rstd: Float, into out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let v = (UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self) - mean) * rstd
            UnsafeMutableRawPointer(out + i).storeBytes(of: v, as: Lanes.self)
            i += 8
        }
        while i < count { out[i] = (x[i] - mean) * rstd; i += 1 }
    }

    /// out[i] = x[i]·a[i] + b[i].
    @inline(__always)
    public static func multiplyAdd(_ x: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                   into out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self) * UnsafeRawPointer(a + i).loadUnaligned(as: Lanes.self)
                + UnsafeRawPointer(b + i).loadUnaligned(as: Lanes.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: v, as: Lanes.self)
            i += 8
        }
        while i < count { out[i] = x[i] * a[i] + b[i]; i += 1 }
    }

    /// out[i] = x[i]·a[i].
    @inline(__always)
    public static func multiply(_ x: UnsafePointer<Float>, _ a: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self) * UnsafeRawPointer(a + i).loadUnaligned(as: Lanes.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: v, as: Lanes.self)
            i += 8
        }
        while i < count { out[i] = x[i] * a[i]; i += 1 }
    }

    /// y[i] += x[i]·a[i].
    @inline(__always)
    public static func multiplyAccumulate(_ x: UnsafePointer<Float>, _ a: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(y + i).loadUnaligned(as: Lanes.self)
                + UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self) * UnsafeRawPointer(a + i).loadUnaligned(as: Lanes.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: Lanes.self)
            i += 8
        }
        while i < count { y[i] += x[i] * a[i]; i += 1 }
    }

    /// dx[i] = r·(g[i] − mean(g) − x̂[i]·mean(g ⊙ x̂)): LayerNorm's input gradient.
    @inline(__always)
    public static func layerNormGradient(_ g: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, meanG: Float, meanGH: Float,
                                         rstd r: Float, into dx: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let v = (UnsafeRawPointer(g + i).loadUnaligned(as: Lanes.self) - meanG
                     - UnsafeRawPointer(xhat + i).loadUnaligned(as: Lanes.self) * meanGH) * r
            UnsafeMutableRawPointer(dx + i).storeBytes(of: v, as: Lanes.self)
            i += 8
        }
        while i < count { dx[i] = r * (g[i] - meanG - xhat[i] * meanGH); i += 1 }
    }

    /// y[i] += a·x[i] for every i.
    @inline(__always)
    public static func addScaled(_ x: UnsafePointer<Float>, by a: Float, into y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(y + i).loadUnaligned(as: Lanes.self) + UnsafeRawPointer(x + i).loadUnaligned(as: Lanes.self) * a
            UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: Lanes.self)
            i += 8
        }
        while i < count { y[i] += a * x[i]; i += 1 }
    }

    /// erf(x) for each lane, absolute error below 5·10⁻⁷ in Float32 (the formula's own is 1.5·10⁻⁷):
    /// Abramowitz & Stegun 7.1.26, 1 − t·(a₁ + t·(a₂ + …))·e^(−x²), t = 1/(1 + p|x|), sign restored.
    @inline(__always)
    public static func erf(_ x: Lanes) -> Lanes {
        let a = x.replacing(with: -x, where: x .< 0)
        let t = 1 / (1 + 0.327_591_1 * a)
        var p = Lanes(repeating: 1.061_405_429)
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        let y = 1 - p * t * exp(-a * a)
        return y.replacing(with: -y, where: x .< 0)
    }

    /// out[j] = GELU(x[j]) = x·Φ(x), the exact (erf) form.
    @inline(__always)
    public static func geluRow(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count n: Int) {
        if width == 16 { pleat512_gelu_row(x, out, Int32(n)); return }
        geluRow8(x, into: out, count: n)
    }

    /// The 8-lane form.
    @inline(__always)
    static func geluRow8(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count n: Int) {
        var j = 0
        while j + 8 <= n {
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: Lanes.self)
            UnsafeMutableRawPointer(out + j).storeBytes(of: 0.5 * v * (1 + erf(v * 0.707_106_78)), as: Lanes.self)
            j += 8
        }
        while j < n { let v = Lanes(repeating: x[j]); out[j] = (0.5 * v * (1 + erf(v * 0.707_106_78)))[0]; j += 1 }
    }

    /// dx[j] = dy[j]·GELU′(x[j]), GELU′ = Φ(x) + x·φ(x).
    @inline(__always)
    public static func geluGradientRow(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count n: Int) {
        if width == 16 { pleat512_gelu_gradient_row(x, dy, dx, Int32(n)); return }
        geluGradientRow8(x, dy, into: dx, count: n)
    }

    /// The 8-lane form.
    @inline(__always)
    static func geluGradientRow8(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count n: Int) {
        @inline(__always) func derivative(_ v: Lanes) -> Lanes {
            0.5 * (1 + erf(v * 0.707_106_78)) + v * exp(-0.5 * v * v) * 0.398_942_28
        }
        var j = 0
        while j + 8 <= n {
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: Lanes.self), g = UnsafeRawPointer(dy + j).loadUnaligned(as: Lanes.self)
            UnsafeMutableRawPointer(dx + j).storeBytes(of: g * derivative(v), as: Lanes.self)
            j += 8
        }
        while j < n { dx[j] = dy[j] * derivative(Lanes(repeating: x[j]))[0]; j += 1 }
    }

    /// The largest value of a row.
    @inline(__always)
    public static func maximum(_ row: UnsafePointer<Float>, count: Int) -> Float {
        var best = Lanes(repeating: -.infinity)
        var j = 0
        while j + 8 <= count {
            let v = UnsafeRawPointer(row + j).loadUnaligned(as: Lanes.self)
            best = best.replacing(with: v, where: v .> best)
            j += 8
        }
        var m = best.max()
        while j < count { m = Swift.max(m, row[j]); j += 1 }
        return m
    }

    /// row[j] = row[j]·a for every j.
    @inline(__always)
    public static func scale(_ row: UnsafeMutablePointer<Float>, count: Int, by a: Float) {
        var j = 0
        while j + 8 <= count {
            let v = UnsafeRawPointer(row + j).loadUnaligned(as: Lanes.self) * a
            UnsafeMutableRawPointer(row + j).storeBytes(of: v, as: Lanes.self)
            j += 8
        }
        while j < count { row[j] *= a; j += 1 }
    }

    /// σ(x) = 1/(1 + e⁻ˣ) per lane (e⁻ˣ saturates, so very negative x gives a tiny positive value).
    @inline(__always)
    public static func sigmoid(_ x: Lanes) -> Lanes { 1 / (1 + exp(-x)) }

    /// out[j] = SiLU(x[j])·scale for j < visible, 0 after (HSTU's masked attention row).
    @inline(__always)
    public static func siluRow(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count n: Int,
                               visible: Int, scale: Float) {
        if width == 16 { pleat512_silu_row(x, out, Int32(n), Int32(visible), scale); return }
        siluRow8(x, into: out, count: n, visible: visible, scale: scale)
    }

    /// The 8-lane form.
    @inline(__always)
    static func siluRow8(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count n: Int,
                               visible: Int, scale: Float) {
        var j = 0
        while j + 8 <= visible {
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: Lanes.self)
            UnsafeMutableRawPointer(out + j).storeBytes(of: v * sigmoid(v) * scale, as: Lanes.self)
            j += 8
        }
        while j < visible { let v = sigmoid(Lanes(repeating: x[j]))[0]; out[j] = x[j] * v * scale; j += 1 }
        if visible < n { (out + visible).update(repeating: 0, count: n - visible) }
    }

    /// g[j] ← g[j]·SiLU′(x[j])·scale for j < visible, 0 after; SiLU′ = σ(1 + x(1 − σ)).
    @inline(__always)
    public static func siluGradientRow(_ x: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, count n: Int,
                                       visible: Int, scale: Float) {
        if width == 16 { pleat512_silu_gradient_row(x, g, Int32(n), Int32(visible), scale); return }
        siluGradientRow8(x, g, count: n, visible: visible, scale: scale)
    }

    /// The 8-lane form.
    @inline(__always)
    static func siluGradientRow8(_ x: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, count n: Int,
                                       visible: Int, scale: Float) {
        var j = 0
        while j + 8 <= visible {
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: Lanes.self)
            let s = sigmoid(v)
            let d = UnsafeRawPointer(g + j).loadUnaligned(as: Lanes.self) * s * (1 + v * (1 - s)) * scale
            UnsafeMutableRawPointer(g + j).storeBytes(of: d, as: Lanes.self)
            j += 8
        }
        while j < visible {
            let s = sigmoid(Lanes(repeating: x[j]))[0]
            g[j] = g[j] * s * (1 + x[j] * (1 - s)) * scale
            j += 1
        }
        if visible < n { (g + visible).update(repeating: 0, count: n - visible) }
    }
}
