import Foundation
import PleatCore

/// Multi-head scaled dot-product attention (SASRec, BERT4Rec), one sequence and head at a time:
///   S = s·Q Kᵀ + mask,  P = softmax(S),  P̃ = dropout(P),  O = P̃ V,  with s = 1/√d_h.
/// Causal (each position sees itself and the past) or bidirectional, with an optional key padding mask.
/// A causal sequence may start with context tokens (fold tokens of older history): its first
/// `prefixes[b]` positions see one another, and every later position sees them. Rows that see no valid
/// key output zeros.
public struct SoftmaxAttention {
    public let heads: Int
    public let headDim: Int
    public let causal: Bool
    public let dropout: Float
    /// Causal products skip the keys no query of a block of rows sees (`CausalRowBlocks`): the rows are
    /// cut into up to 4 blocks of at least this many.
    public let causalBlockRows: Int

    public init(heads: Int, headDim: Int, causal: Bool, dropout: Float = 0, causalBlockRows: Int = 32) {
        self.heads = heads
        self.headDim = headDim
        self.causal = causal
        self.dropout = dropout
        self.causalBlockRows = causalBlockRows
    }

    /// A key every query sees besides its sequence's own: `logCounts[b]` = ln(copies) for sequence b
    /// (−∞: none) of one key row and one value row, `heads · headDim` wide. It is what a left-padded window
    /// without a key padding mask attends to (the original SASRec's): its padding rows are zeros, so their
    /// keys and values are the projections' biases, and a short history's queries share their weight with
    /// its many padding copies. The sink is not dropped out. Backward adds into the two gradients.
    public struct Sink {
        public let key: UnsafePointer<Float>, value: UnsafePointer<Float>, logCounts: UnsafePointer<Float>
        public let keyGradient: UnsafeMutablePointer<Float>, valueGradient: UnsafeMutablePointer<Float>

        public init(key: UnsafePointer<Float>, value: UnsafePointer<Float>, logCounts: UnsafePointer<Float>,
                    keyGradient: UnsafeMutablePointer<Float>, valueGradient: UnsafeMutablePointer<Float>) {
            (self.key, self.value, self.logCounts, self.keyGradient, self.valueGradient) = (key, value, logCounts, keyGradient, valueGradient)
        }

        /// Query row q's logit for the sink of sequence b, head h (−∞ when b has none).
        @inline(__always)
        func logit(_ q: UnsafePointer<Float>, sequence b: Int, head h: Int, width d: Int, scale: Float) -> Float {
            let count = logCounts[b]
            return count > -.infinity ? scale * VectorMath.dot(q, key + h * d, count: d) + count : -.infinity
        }
    }

    func spans(length n: Int, prefix: Int) -> CausalRowBlocks {
        CausalRowBlocks(length: n, prefix: prefix, causal: causal, minimumRows: causalBlockRows)
    }

    /// Keys query i sees (all of them when bidirectional; the padding mask is applied separately).
    @inline(__always)
    func visible(_ i: Int, length n: Int, prefix: Int) -> Int { causal ? min(max(i + 1, prefix), n) : n }

    /// Buffers kept between forward and backward, sized for `batch` sequences of `length`.
    public final class Cache {
        public let batch: Int, maxLength: Int
        /// Positions per sequence in the current batch (at most `maxLength`): the buffers below hold
        /// `batch · heads` blocks of `length × length`, packed.
        public private(set) var length: Int
        let probabilities: Tensor    // P, [B·H, N, N]
        let dropMask: Tensor?        // 0 or 1/(1−p), [B·H, N, N]
        let scratch: Tensor          // dP, [B·H, N, N]
        let sinkProbabilities: Tensor    // the sink's share of each row, [B·H, N]
        let sinkScores: Tensor           // its dS in backward, [B·H, N]
        let sinkGradients: Tensor        // each head and sequence's ∂L/∂key and ∂L/∂value, [B·H, 2·d_h]
        /// Whether the last forward pass had a sink.
        var usedSink = false
        /// Whether the last forward pass drew a dropout mask (training) or not (evaluation).
        var usedDropout = false
        /// Each sequence's context tokens in the last forward pass: backward skips the keys a row never saw.
        var prefixes: [Int32]

        public func setLength(_ n: Int) {
            precondition(n <= maxLength, "length \(n) exceeds \(maxLength)")
            length = n
        }

        public init(batch: Int, length: Int, heads: Int, dropout: Float, headDim: Int = 0) {
            self.batch = batch
            self.length = length
            maxLength = length
            probabilities = Tensor([batch * heads, length, length])
            dropMask = dropout > 0 ? Tensor([batch * heads, length, length]) : nil
            scratch = Tensor([batch * heads, length, length])
            (sinkProbabilities, sinkScores) = (Tensor([batch * heads, length]), Tensor([batch * heads, length]))
            sinkGradients = Tensor([batch * heads, 2 * headDim])
            prefixes = [Int32](repeating: 0, count: batch)
        }
    }

    /// `keyValid[b·N + j]` is 1 for real positions and 0 for padding (nil: all valid); `prefixes[b]`
    /// (causal only, nil: none) counts sequence b's leading context tokens. `rng` nil means evaluation
    /// (no dropout). Backward needs no padding mask (hidden keys have probability 0); it keeps the prefixes.
    public func forward(q: StridedRows, k: StridedRows, v: StridedRows, keyValid: UnsafePointer<Float>?,
                        prefixes: UnsafePointer<Int32>? = nil, sink: Sink? = nil, out: StridedRows, cache: Cache,
                        rng: inout RandomSource?) {
        precondition(sink == nil || cache.sinkGradients.columns == 2 * headDim, "a sink needs a cache made with headDim")
        let n = cache.length, d = headDim, scale = 1 / Float(d).squareRoot()
        let seed = rng?.next()
        let useDropout = dropout > 0 && seed != nil
        for b in 0..<cache.batch { cache.prefixes[b] = prefixes?[b] ?? 0 }
        Parallel.forRows(cache.batch * heads, minimumPerWorker: 1) { range in
            for bh in range {
                let (b, h, qb, kb, vb) = head(bh, q, k, v, length: n)
                let p = cache.probabilities.pointer + bh * n * n
                let valid = keyValid.map { $0 + b * n }, prefix = Int(prefixes?[b] ?? 0)
                let blocks = spans(length: n, prefix: prefix)
                blocks.rowsAgainstKeys(qb, lda: q.stride, kb, ldb: k.stride, depth: d, alpha: scale, into: p)
                let sinkShare = cache.sinkProbabilities.pointer + bh * n
                for i in 0..<n {
                    let row = p + i * n
                    let visible = visible(i, length: n, prefix: prefix)
                    // Hidden keys (the future, padding) get −∞, i.e. probability 0.
                    if visible < n { (row + visible).update(repeating: -.infinity, count: n - visible) }
                    if let valid { for j in 0..<visible where valid[j] <= 0 { row[j] = -.infinity } }
                    let sinkLogit = sink?.logit(qb + i * q.stride, sequence: b, head: h, width: d, scale: scale) ?? -.infinity
                    let m = max(VectorMath.maximum(row, count: visible), sinkLogit)
                    guard m > -Float.infinity else { row.update(repeating: 0, count: n); sinkShare[i] = 0; continue }
                    let sinkWeight = sinkLogit > -.infinity ? Foundation.exp(sinkLogit - m) : 0
                    let sum = VectorMath.expShiftAndSum(row, count: visible, shift: m) + sinkWeight
                    VectorMath.scale(row, count: visible, by: 1 / sum)
                    sinkShare[i] = sinkWeight / sum
                    if visible < n { (row + visible).update(repeating: 0, count: n - visible) }
                }
                var source = p
                if useDropout, let mask = cache.dropMask, let seed {
                    var local = RandomSource(seed: seed).split(UInt64(bh))
                    let mb = mask.pointer + bh * n * n, dropped = cache.scratch.pointer + bh * n * n
                    Dropout.apply(p, into: dropped, mask: mb, count: n * n, keep: 1 - dropout, rng: &local)
                    source = dropped
                }
                let ob = out.block(sequence: b, length: n, head: h, width: d)
                blocks.rowsWeighKeys(source, vb, ldb: v.stride, width: d, into: ob, ldc: out.stride)
                if let sink {
                    for i in 0..<n { VectorMath.addScaled(sink.value + h * d, by: sinkShare[i], into: ob + i * out.stride, count: d) }
                }
            }
        }
        cache.usedDropout = useDropout
        cache.usedSink = sink != nil
    }

    /// dV = P̃ᵀ dO;  dP = (dO Vᵀ) ⊙ mask;  dS = P ⊙ (dP − ⟨P, dP⟩_row);  dQ = s·dS K;  dK = s·dSᵀ Q.
    /// Overwrites dq, dk, dv (which may be column blocks of one gradient matrix).
    /// With a sink (the one forward had) of share p_s: dp_s = dO·v_s, and ⟨P, dP⟩_row includes p_s·dp_s;
    /// dS_s = p_s(dp_s − ⟨P, dP⟩_row), dQ += s·dS_s k_s, ∂L/∂k_s += s·Σ dS_s Q, ∂L/∂v_s += Σ p_s dO.
    public func backward(q: StridedRows, k: StridedRows, v: StridedRows, dOut: StridedRows, cache: Cache,
                         dq: StridedRows, dk: StridedRows, dv: StridedRows, sink: Sink? = nil) {
        precondition((sink != nil) == cache.usedSink, "backward needs the sink forward had")
        let n = cache.length, d = headDim, scale = 1 / Float(d).squareRoot()
        Parallel.forRows(cache.batch * heads, minimumPerWorker: 1) { range in
            for bh in range {
                let (b, h, qb, kb, vb) = head(bh, q, k, v, length: n)
                let dob = dOut.block(sequence: b, length: n, head: h, width: d)
                let p = cache.probabilities.pointer + bh * n * n
                let dp = cache.scratch.pointer + bh * n * n
                let mask = cache.usedDropout ? cache.dropMask.map { $0.pointer + bh * n * n } : nil
                let prefix = Int(cache.prefixes[b]), blocks = spans(length: n, prefix: prefix)
                let dvb = dv.block(sequence: b, length: n, head: h, width: d), dqb = dq.block(sequence: b, length: n, head: h, width: d)
                let dkb = dk.block(sequence: b, length: n, head: h, width: d)
                // dV = P̃ᵀ dO, with P̃ = P ⊙ mask rebuilt in dp for the product; key block [r0, r1) is seen by
                // rows from firstRow on only.
                var dropped = p
                if let mask { for i in 0..<(n * n) { dp[i] = p[i] * mask[i] }; dropped = dp }
                blocks.keysGatherRows(dropped, dob, ldb: dOut.stride, width: d, into: dvb, ldc: dv.stride)
                blocks.rowsAgainstKeys(dob, lda: dOut.stride, vb, ldb: v.stride, depth: d, into: dp)
                let sinkShare = cache.sinkProbabilities.pointer + bh * n, sinkScore = cache.sinkScores.pointer + bh * n
                for i in 0..<n {
                    let pr = p + i * n, dr = dp + i * n, seen = visible(i, length: n, prefix: prefix)
                    if let mask { for j in 0..<seen { dr[j] *= mask[i * n + j] } }
                    var dot: Float = 0
                    for j in 0..<seen { dot += pr[j] * dr[j] }
                    let sinkDP = sink.map { VectorMath.dot(dob + i * dOut.stride, $0.value + h * d, count: d) } ?? 0
                    if sink != nil { dot += sinkShare[i] * sinkDP; sinkScore[i] = sinkShare[i] * (sinkDP - dot) }
                    for j in 0..<seen { dr[j] = pr[j] * (dr[j] - dot) }
                    // Keys the row does not see: never computed in the blocked products, and 0 by definition.
                    if seen < n { (dr + seen).update(repeating: 0, count: n - seen) }
                }
                blocks.rowsWeighKeys(dp, kb, ldb: k.stride, width: d, alpha: scale, into: dqb, ldc: dq.stride)
                blocks.keysGatherRows(dp, qb, ldb: q.stride, width: d, alpha: scale, into: dkb, ldc: dk.stride)
                if let sink {
                    let dKey = cache.sinkGradients.pointer + bh * 2 * d, dValue = dKey + d
                    dKey.update(repeating: 0, count: 2 * d)
                    for i in 0..<n {
                        VectorMath.addScaled(sink.key + h * d, by: scale * sinkScore[i], into: dqb + i * dq.stride, count: d)
                        VectorMath.addScaled(qb + i * q.stride, by: scale * sinkScore[i], into: dKey, count: d)
                        VectorMath.addScaled(dob + i * dOut.stride, by: sinkShare[i], into: dValue, count: d)
                    }
                }
            }
        }
        // Summed over sequences here, in a fixed order, not by the workers.
        if let sink {
            for bh in 0..<(cache.batch * heads) {
                let h = bh % heads, partial = cache.sinkGradients.pointer + bh * 2 * d
                VectorMath.addScaled(partial, by: 1, into: sink.keyGradient + h * d, count: d)
                VectorMath.addScaled(partial + d, by: 1, into: sink.valueGradient + h * d, count: d)
            }
        }
    }

    /// Sequence, head, and the head's Q, K, V rows for work item `bh` = b·heads + h.
    @inline(__always)
    private func head(_ bh: Int, _ q: StridedRows, _ k: StridedRows, _ v: StridedRows, length n: Int)
        -> (Int, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) {
        let b = bh / heads, h = bh % heads
        return (b, h, q.block(sequence: b, length: n, head: h, width: headDim),
                k.block(sequence: b, length: n, head: h, width: headDim), v.block(sequence: b, length: n, head: h, width: headDim))
    }
}
