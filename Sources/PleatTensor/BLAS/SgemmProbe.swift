import Foundation

/// sgemm speed on one core at the shapes Pleat's models multiply: what `pleat doctor` and the training-step
/// benchmark report, and what the choice of BLAS kernel is judged by.
public enum SgemmProbe {
    /// One product C[m×n] = op(A)·op(B) with k terms per element.
    public struct Shape: Sendable {
        public let name: String
        public let m: Int, n: Int, k: Int
        public let transposeA: Bool, transposeB: Bool

        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    /// Batch 128 × 200 positions (25,600 rows), d = 64 with 2 heads, a 4× FFN and 3,500 items: the
    /// `sasrec-full` and `hstu` presets' products, forward and backward.
    public static let pleatShapes: [Shape] = [
        Shape(name: "projection 25600x64x64", m: 25_600, n: 64, k: 64, transposeA: false, transposeB: true),
        Shape(name: "ffn up 25600x256x64", m: 25_600, n: 256, k: 64, transposeA: false, transposeB: true),
        Shape(name: "ffn down 25600x64x256", m: 25_600, n: 64, k: 256, transposeA: false, transposeB: false),
        Shape(name: "weight gradient 64x64x25600", m: 64, n: 64, k: 25_600, transposeA: true, transposeB: false),
        Shape(name: "attention 200x200x32", m: 200, n: 200, k: 32, transposeA: false, transposeB: true),
        Shape(name: "attention values 200x32x200", m: 200, n: 32, k: 200, transposeA: false, transposeB: false),
        Shape(name: "logits 256x3500x64", m: 256, n: 3_500, k: 64, transposeA: false, transposeB: true),
        Shape(name: "logit gradient 256x64x3500", m: 256, n: 64, k: 3_500, transposeA: false, transposeB: false),
        Shape(name: "table gradient 3500x64x256", m: 3_500, n: 64, k: 256, transposeA: true, transposeB: false),
    ]

    public struct Measurement: Codable, Sendable {
        public var shape: String
        public var gflops: Double
    }

    public struct Result: Codable, Sendable {
        public var shapes: [Measurement]
        /// All shapes' FLOPs over their summed best times: the rate of a step that runs each product once.
        public var gflops: Double
    }

    /// Best of `repeats` timings per shape, each repeated until it lasts about `seconds`; one thread.
    public static func measure(_ shapes: [Shape] = pleatShapes, repeats: Int = 5, seconds: Double = 0.02) -> Result {
        var measurements: [Measurement] = [], totalFlops = 0.0, totalTime = 0.0
        for shape in shapes {
            let a = Tensor([shape.m * shape.k]), b = Tensor([shape.k * shape.n]), c = Tensor([shape.m * shape.n])
            for i in 0..<a.count { a[i] = Float(i % 7) * 0.1 }
            for i in 0..<b.count { b[i] = Float(i % 5) * 0.1 }
            func product() {
                Gemm.multiply(a.pointer, transposeA: shape.transposeA, b.pointer, transposeB: shape.transposeB, into: c.pointer,
                              m: shape.m, n: shape.n, k: shape.k)
            }
            product()  // warm-up: packing buffers, caches
            let inner = max(1, Int(seconds * 50e9 / shape.flops))  // about `seconds` at 50 GFLOP/s
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<inner { product() }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(inner))
            }
            measurements.append(Measurement(shape: shape.name, gflops: shape.flops / best / 1e9))
            totalFlops += shape.flops
            totalTime += best
        }
        return Result(shapes: measurements, gflops: totalFlops / totalTime / 1e9)
    }
}
