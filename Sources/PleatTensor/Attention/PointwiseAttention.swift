import Foundation

/// HSTU's pointwise attention (model-spec §1.4–1.5, §5.3), per sequence b and head h:
///   S = Q Kᵀ + RAB_b,   A = SiLU(S)/N ⊙ M,   O = A V
/// N is the model's maximum length (a constant, not the sequence's length); M is causal and hides keys
/// at or beyond the sequence's length. RAB_b[i, j] = pos_w[N − 1 + j − i] + ts_w[bucket(t_{i+1} − t_j)],
/// shared by the heads, with log-spaced time buckets of the timestamp of the event after query i.
public struct PointwiseAttention {
    public let heads: Int
    public let qkDim: Int
    public let vDim: Int
    public let maxLength: Int
    public let positionBias: Parameter?
    public let timeBias: Parameter?

    public static let timeBuckets = 128
    /// bucket = floor(ln(max(|Δt|, 1)) / 0.301), clamped to [0, 128] (the reference's constants).
    static let bucketWidth = 0.301

    public init(_ store: ParameterStore, _ name: String, heads: Int, qkDim: Int, vDim: Int, maxLength: Int,
                relativeBias: Bool = true) {
        self.heads = heads
        self.qkDim = qkDim
        self.vDim = vDim
        self.maxLength = maxLength
        positionBias = relativeBias ? store.make("\(name).pos_w", shape: [2 * maxLength - 1], decays: false) : nil
        timeBias = relativeBias ? store.make("\(name).ts_w", shape: [Self.timeBuckets + 1], decays: false) : nil
    }

    public final class Cache {
        public let batch: Int, length: Int
        let scores: Tensor          // S, [B·H, N, N]
        let scratch: Tensor         // A in forward, dS in backward
        let bias: Tensor            // RAB, [B, N, N]
        var buckets: [UInt8]        // [B, N, N]
        var lengths: [Int32]
        var hasBias = false

        public init(batch: Int, length: Int, heads: Int) {
            self.batch = batch
            self.length = length
            scores = Tensor([batch * heads, length, length])
            scratch = Tensor([batch * heads, length, length])
            bias = Tensor([batch, length, length])
            buckets = [UInt8](repeating: 0, count: batch * length * length)
            lengths = [Int32](repeating: 0, count: batch)
        }
    }

    public static func bucket(_ delta: Int64) -> UInt8 {
        let magnitude = Double(max(abs(delta), 1))
        return UInt8(min(max(Int((log(magnitude) / bucketWidth).rounded(.down)), 0), timeBuckets))
    }

    /// `lengths[b]`: real events of sequence b (the first ones; the rest is padding). `timestamps`:
    /// Unix seconds, `length + 1` per sequence, the last being the time of the event after the last
    /// position (the request time at inference).
    public func forward(q: StridedRows, k: StridedRows, v: StridedRows, lengths: UnsafeBufferPointer<Int32>,
                        timestamps: UnsafePointer<Int64>?, out: StridedRows, cache: Cache) {
        let n = cache.length
        precondition(n <= maxLength, "sequence length \(n) exceeds the model's \(maxLength)")
        for b in 0..<cache.batch { cache.lengths[b] = lengths[b] }
        buildBias(timestamps: timestamps, cache: cache)
        let inverseN = 1 / Float(maxLength)
        Parallel.forRows(cache.batch * heads, minimumPerWorker: 1) { range in
            for bh in range {
                let b = bh / heads, h = bh % heads
                let s = cache.scores.pointer + bh * n * n, a = cache.scratch.pointer + bh * n * n
                Gemm.multiply(q.block(sequence: b, length: n, head: h, width: qkDim),
                              k.block(sequence: b, length: n, head: h, width: qkDim), transposeB: true,
                              into: s, m: n, n: n, k: qkDim, lda: q.stride, ldb: k.stride)
                let rab = cache.bias.pointer + b * n * n
                let valid = Int(cache.lengths[b])
                for i in 0..<n {
                    let visible = min(i + 1, valid)
                    for j in 0..<n {
                        let x = s[i * n + j] + rab[i * n + j]
                        s[i * n + j] = x
                        a[i * n + j] = j < visible ? x * Activation.sigmoid(x) * inverseN : 0
                    }
                }
                Gemm.multiply(a, v.block(sequence: b, length: n, head: h, width: vDim),
                              into: out.block(sequence: b, length: n, head: h, width: vDim),
                              m: n, n: vDim, k: n, ldb: v.stride, ldc: out.stride)
            }
        }
    }

    /// dV = Aᵀ dO;  dS = (dO Vᵀ) ⊙ M ⊙ SiLU′(S)/N;  dQ = dS K;  dK = dSᵀ Q;  dRAB = Σ_h dS scattered
    /// into pos_w and ts_w. Overwrites dq, dk, dv; accumulates the bias gradients.
    public func backward(q: StridedRows, k: StridedRows, v: StridedRows, dOut: StridedRows, cache: Cache,
                         dq: StridedRows, dk: StridedRows, dv: StridedRows) {
        let n = cache.length
        let inverseN = 1 / Float(maxLength)
        Parallel.forRows(cache.batch * heads, minimumPerWorker: 1) { range in
            for bh in range {
                let b = bh / heads, h = bh % heads
                let s = cache.scores.pointer + bh * n * n, g = cache.scratch.pointer + bh * n * n
                let valid = Int(cache.lengths[b])
                let vb = v.block(sequence: b, length: n, head: h, width: vDim)
                let dob = dOut.block(sequence: b, length: n, head: h, width: vDim)
                // A again from S (cheaper than keeping it), then dV = Aᵀ dO.
                for i in 0..<n {
                    let visible = min(i + 1, valid)
                    for j in 0..<n { let x = s[i * n + j]; g[i * n + j] = j < visible ? x * Activation.sigmoid(x) * inverseN : 0 }
                }
                Gemm.multiply(g, transposeA: true, dob, into: dv.block(sequence: b, length: n, head: h, width: vDim),
                              m: n, n: vDim, k: n, lda: n, ldb: dOut.stride, ldc: dv.stride)
                Gemm.multiply(dob, vb, transposeB: true, into: g, m: n, n: n, k: vDim, lda: dOut.stride, ldb: v.stride)
                for i in 0..<n {
                    let visible = min(i + 1, valid)
                    for j in 0..<n {
                        guard j < visible else { g[i * n + j] = 0; continue }
                        let x = s[i * n + j], sig = Activation.sigmoid(x)
                        g[i * n + j] *= sig * (1 + x * (1 - sig)) * inverseN
                    }
                }
                Gemm.multiply(g, k.block(sequence: b, length: n, head: h, width: qkDim),
                              into: dq.block(sequence: b, length: n, head: h, width: qkDim),
                              m: n, n: qkDim, k: n, ldb: k.stride, ldc: dq.stride)
                Gemm.multiply(g, transposeA: true, q.block(sequence: b, length: n, head: h, width: qkDim),
                              into: dk.block(sequence: b, length: n, head: h, width: qkDim),
                              m: n, n: qkDim, k: n, lda: n, ldb: q.stride, ldc: dk.stride)
            }
        }
        scatterBiasGradients(cache: cache)
    }

    // MARK: Relative bias

    private func buildBias(timestamps: UnsafePointer<Int64>?, cache: Cache) {
        let n = cache.length
        // Without timestamps the reference adds no relative bias at all.
        guard let pos = positionBias?.value.pointer, let ts = timeBias?.value.pointer, let timestamps else {
            cache.bias.zero()
            cache.hasBias = false
            return
        }
        cache.hasBias = true
        Parallel.forRows(cache.batch, minimumPerWorker: 1) { range in
            for b in range {
                let rab = cache.bias.pointer + b * n * n
                let t = timestamps + b * (n + 1)
                for i in 0..<n {
                    for j in 0..<n {
                        let bucket = Self.bucket(t[i + 1] - t[j])
                        cache.buckets[(b * n + i) * n + j] = bucket
                        rab[i * n + j] = pos[maxLength - 1 + j - i] + ts[Int(bucket)]
                    }
                }
            }
        }
    }

    /// d pos_w[N−1+j−i] += Σ_{b,h} dS;  d ts_w[bucket_b[i,j]] += Σ_h dS (in a fixed order).
    private func scatterBiasGradients(cache: Cache) {
        guard cache.hasBias, let dPos = positionBias?.grad.pointer, let dTs = timeBias?.grad.pointer else { return }
        let n = cache.length
        for b in 0..<cache.batch {
            for h in 0..<heads {
                let ds = cache.scratch.pointer + (b * heads + h) * n * n
                for i in 0..<n {
                    for j in 0...i where ds[i * n + j] != 0 {
                        let g = ds[i * n + j]
                        dPos[maxLength - 1 + j - i] += g
                        dTs[Int(cache.buckets[(b * n + i) * n + j])] += g
                    }
                }
            }
        }
    }
}
