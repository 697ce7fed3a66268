import Foundation
import PleatCore

/// HSTU's pointwise attention (model-spec §1.4–1.5, §5.3), per sequence b and head h:
///   S = α·Q Kᵀ + RAB,   A = SiLU(S)/N ⊙ M,   O = Drop(A) V
/// N is the model's maximum length (a constant, not the sequence's length); M is causal and hides keys
/// at or beyond the sequence's length, except that optional leading context tokens (a prefix, e.g. the
/// fold tokens of older history) also see one another. RAB[i, j] = pos_w[N − 1 + j − i] + ts_w[bucket(t_{i+1} − t_j)]:
/// a Toeplitz position term and log-spaced buckets of the time between the event after query i and key j.
///
/// The defaults are the research HSTU of the spec (α = 1, one position table shared by the heads, a time
/// table, no attention dropout); `Options` also describes the simplified HSTU of the PyTorch benchmark
/// (α = 1/√d, one position table per head, no time term, dropout on A).
public struct PointwiseAttention {
    public enum PositionBias: String, Sendable, Codable { case none, shared, perHead }

    public struct Options: Sendable, Codable, Equatable {
        public var scale: Float = 1
        public var positionBias: PositionBias = .shared
        public var timeBias = true
        public var dropout: Float = 0
        public init() {}
    }

    public let heads: Int
    public let qkDim: Int
    public let vDim: Int
    public let maxLength: Int
    public let options: Options
    public let positionBias: Parameter?
    public let timeBias: Parameter?
    /// Rows per causal block at least (`CausalRowBlocks`): the products skip the keys no row of a block sees.
    public let causalBlockRows: Int

    public static let timeBuckets = 128
    /// bucket = floor(ln(max(|Δt|, 1)) / 0.301), clamped to [0, 128] (the reference's constants).
    static let bucketWidth = 0.301

    public init(_ store: ParameterStore, _ name: String, heads: Int, qkDim: Int, vDim: Int, maxLength: Int,
                options: Options = Options(), causalBlockRows: Int = 32) {
        self.causalBlockRows = causalBlockRows
        self.heads = heads
        self.qkDim = qkDim
        self.vDim = vDim
        self.maxLength = maxLength
        self.options = options
        switch options.positionBias {
        case .none: positionBias = nil
        case .shared: positionBias = store.make("\(name).pos_w", shape: [2 * maxLength - 1], decays: false)
        case .perHead: positionBias = store.make("\(name).pos_w", shape: [heads, 2 * maxLength - 1], decays: false)
        }
        timeBias = options.timeBias ? store.make("\(name).ts_w", shape: [Self.timeBuckets + 1], decays: false) : nil
    }

    public final class Cache {
        public let batch: Int, maxLength: Int
        /// Positions per sequence in the current batch (at most `maxLength`); blocks are packed by it.
        public private(set) var length: Int
        let scores: Tensor          // S with the bias, [B·H, N, N]
        let scratch: Tensor         // Drop(A) in forward, dS in backward
        let dropMask: Tensor?       // 0 or 1/(1−p), [B·H, N, N]
        let timeBuckets: TimeBuckets
        /// False when the buckets are borrowed from another layer's cache, which fills them.
        let fillsBuckets: Bool
        var lengths: [Int32]
        var prefixes: [Int32]
        var hasTimes = false
        var usedDropout = false
        /// Each sequence's partial bias gradients (`scatterBiasGradients`), kept between steps.
        var biasPartials: Tensor?

        /// `sharingBucketsWith`: the cache of an earlier layer over the same sequences (same timestamps,
        /// lengths and prefixes). Its forward, run first in each pass, fills the time buckets this cache
        /// reads, so a stack of layers computes them once.
        public init(batch: Int, length: Int, heads: Int, dropout: Float = 0, sharingBucketsWith owner: Cache? = nil) {
            self.batch = batch
            self.length = length
            maxLength = length
            scores = Tensor([batch * heads, length, length])
            scratch = Tensor([batch * heads, length, length])
            dropMask = dropout > 0 ? Tensor([batch * heads, length, length]) : nil
            timeBuckets = owner?.timeBuckets ?? TimeBuckets(count: batch * length * length)
            fillsBuckets = owner == nil
            lengths = [Int32](repeating: 0, count: batch)
            prefixes = [Int32](repeating: 0, count: batch)
        }

        public func setLength(_ n: Int) {
            precondition(n <= maxLength, "length \(n) exceeds \(maxLength)")
            length = n
        }

        /// Keys visible to query i of sequence b: a prefix [0, visible). The first `prefixes[b]` positions
        /// (context tokens, e.g. folds of older history) see one another; later positions see every
        /// context token and causally the rest; nothing at or beyond `lengths[b]` is seen.
        @inline(__always) func visible(_ i: Int, sequence b: Int) -> Int {
            min(max(i + 1, Int(prefixes[b])), Int(lengths[b]))
        }
    }

    /// Time bucket of every (query, key) pair, [B, N, N], when timestamps were given.
    public final class TimeBuckets {
        var values: [UInt8]
        init(count: Int) { values = [UInt8](repeating: 0, count: count) }
    }

    public static func bucket(_ delta: Int64) -> UInt8 {
        let magnitude = Double(max(abs(delta), 1))
        return UInt8(min(max(Int((log(magnitude) / bucketWidth).rounded(.down)), 0), timeBuckets))
    }

    /// `bucketStarts[k]`: the smallest |Δ| whose bucket is at least k, found with `bucket` itself, so that
    /// `fillBuckets` gives exactly the same buckets without a logarithm.
    static let bucketStarts: [Int64] = (0...timeBuckets).map { k in
        var c = Int64(min(exp(Double(k) * bucketWidth), 9e18))
        while c > 1 && Int(bucket(c - 1)) >= k { c -= 1 }
        while Int(bucket(c)) < k { c += 1 }
        return c
    }

    /// row[j] = bucket(next − times[j]) for j < count. Along a row the gaps change gradually (times are
    /// ordered), so each bucket is found by walking from the previous one over the exact boundaries in
    /// `starts` (`bucketStarts`): no logarithm per pair, where one would cost more than the attention.
    @inline(__always)
    static func fillBuckets(_ row: UnsafeMutablePointer<UInt8>, next: Int64, times: UnsafePointer<Int64>, count: Int,
                            starts: UnsafeBufferPointer<Int64>) {
        var k = 0
        for j in 0..<count {
            let delta = next &- times[j], magnitude = delta == .min ? .max : abs(delta)
            while k > 0 && starts[k] > magnitude { k -= 1 }
            while k < timeBuckets && starts[k + 1] <= magnitude { k += 1 }
            row[j] = UInt8(k)
        }
    }

    /// `lengths[b]`: real events of sequence b (the first ones; the rest is padding). `timestamps`:
    /// Unix seconds, `length + 1` per sequence, the last being the time of the event after the last
    /// position (the request time at inference); without them the reference adds no time term.
    /// `prefixes[b]` (optional): leading context tokens that attend to each other bidirectionally (see
    /// `Cache.visible`). `rng` nil: evaluation (no dropout).
    public func forward(q: StridedRows, k: StridedRows, v: StridedRows, lengths: UnsafeBufferPointer<Int32>,
                        prefixes: UnsafeBufferPointer<Int32>? = nil,
                        timestamps: UnsafePointer<Int64>?, out: StridedRows, cache: Cache, rng: inout RandomSource?) {
        let n = cache.length
        precondition(n <= maxLength, "sequence length \(n) exceeds the model's \(maxLength)")
        for b in 0..<cache.batch { cache.lengths[b] = lengths[b]; cache.prefixes[b] = prefixes?[b] ?? 0 }
        cache.hasTimes = timeBias != nil && timestamps != nil
        if cache.hasTimes, cache.fillsBuckets, let timestamps { computeBuckets(timestamps, cache: cache) }
        let seed = rng?.next()
        cache.usedDropout = options.dropout > 0 && seed != nil
        let inverseN = 1 / Float(maxLength)
        Parallel.forRows(cache.batch * heads, minimumPerWorker: 1) { range in
            for bh in range {
                let b = bh / heads, h = bh % heads
                let s = cache.scores.pointer + bh * n * n, a = cache.scratch.pointer + bh * n * n
                let qb = q.block(sequence: b, length: n, head: h, width: qkDim), kb = k.block(sequence: b, length: n, head: h, width: qkDim)
                let blocks = rowBlocks(cache, sequence: b)
                // Only the keys a block's rows see are scored; the bias and SiLU read visible keys only.
                blocks.rowsAgainstKeys(qb, lda: q.stride, kb, ldb: k.stride, depth: qkDim, alpha: options.scale, into: s)
                addBias(to: s, sequence: b, head: h, cache: cache)
                for i in 0..<n {
                    VectorMath.siluRow(s + i * n, into: a + i * n, count: n, visible: cache.visible(i, sequence: b), scale: inverseN)
                }
                if cache.usedDropout, let mask = cache.dropMask, let seed {
                    var local = RandomSource(seed: seed).split(UInt64(bh))
                    Dropout.apply(a, into: a, mask: mask.pointer + bh * n * n, count: n * n, keep: 1 - options.dropout, rng: &local)
                }
                let vb = v.block(sequence: b, length: n, head: h, width: vDim), ob = out.block(sequence: b, length: n, head: h, width: vDim)
                blocks.rowsWeighKeys(a, vb, ldb: v.stride, width: vDim, into: ob, ldc: out.stride)
            }
        }
    }

    /// dV = Drop(A)ᵀ dO;  dS = Drop′(dO Vᵀ) ⊙ M ⊙ SiLU′(S)/N;  dQ = α dS K;  dK = α dSᵀ Q;  the bias
    /// tables get dS scattered back. Overwrites dq, dk, dv; accumulates the bias gradients.
    public func backward(q: StridedRows, k: StridedRows, v: StridedRows, dOut: StridedRows, cache: Cache,
                         dq: StridedRows, dk: StridedRows, dv: StridedRows) {
        let n = cache.length
        let inverseN = 1 / Float(maxLength)
        Parallel.forRows(cache.batch * heads, minimumPerWorker: 1) { range in
            for bh in range {
                let b = bh / heads, h = bh % heads
                let s = cache.scores.pointer + bh * n * n, g = cache.scratch.pointer + bh * n * n
                let mask = cache.usedDropout ? cache.dropMask.map { $0.pointer + bh * n * n } : nil
                let vb = v.block(sequence: b, length: n, head: h, width: vDim)
                let dob = dOut.block(sequence: b, length: n, head: h, width: vDim)
                let qb = q.block(sequence: b, length: n, head: h, width: qkDim), kb = k.block(sequence: b, length: n, head: h, width: qkDim)
                let dvb = dv.block(sequence: b, length: n, head: h, width: vDim)
                let dqb = dq.block(sequence: b, length: n, head: h, width: qkDim), dkb = dk.block(sequence: b, length: n, head: h, width: qkDim)
                let blocks = rowBlocks(cache, sequence: b)
                // Drop(A) again from S (cheaper than keeping it; rows are 0 past their visible keys), then
                // dV = Drop(A)ᵀ dO, each key block from the first row that sees it.
                for i in 0..<n {
                    VectorMath.siluRow(s + i * n, into: g + i * n, count: n, visible: cache.visible(i, sequence: b), scale: inverseN)
                }
                if let mask { for i in 0..<(n * n) { g[i] *= mask[i] } }
                blocks.keysGatherRows(g, dob, ldb: dOut.stride, width: vDim, into: dvb, ldc: dv.stride)
                blocks.rowsAgainstKeys(dob, lda: dOut.stride, vb, ldb: v.stride, depth: vDim, into: g)
                if let mask { for i in 0..<(n * n) { g[i] *= mask[i] } }
                // dS: 0 past each row's visible keys, so the key-block products below read zeros there.
                for i in 0..<n {
                    VectorMath.siluGradientRow(s + i * n, g + i * n, count: n, visible: cache.visible(i, sequence: b), scale: inverseN)
                }
                blocks.rowsWeighKeys(g, kb, ldb: k.stride, width: qkDim, alpha: options.scale, into: dqb, ldc: dq.stride)
                blocks.keysGatherRows(g, qb, ldb: q.stride, width: qkDim, alpha: options.scale, into: dkb, ldc: dk.stride)
            }
        }
        scatterBiasGradients(cache: cache)
    }

    /// Sequence b's row blocks: its attention is causal after its context prefix.
    @inline(__always)
    func rowBlocks(_ cache: Cache, sequence b: Int) -> CausalRowBlocks {
        CausalRowBlocks(length: cache.length, prefix: Int(cache.prefixes[b]), causal: true, minimumRows: causalBlockRows)
    }

    // MARK: Relative bias

    private func computeBuckets(_ timestamps: UnsafePointer<Int64>, cache: Cache) {
        let n = cache.length
        Self.bucketStarts.withUnsafeBufferPointer { starts in
            cache.timeBuckets.values.withUnsafeMutableBufferPointer { buckets in
                Parallel.forRows(cache.batch, minimumPerWorker: 1) { range in
                    for b in range {
                        let t = timestamps + b * (n + 1)
                        for i in 0..<n {
                            // Only keys the query sees: the others' bias is masked in forward and never read backward.
                            Self.fillBuckets(buckets.start + (b * n + i) * n, next: t[i + 1], times: t,
                                             count: cache.visible(i, sequence: b), starts: starts)
                        }
                    }
                }
            }
        }
    }

    /// S[i, j] += pos_w[N − 1 + j − i] (+ the head's offset) + ts_w[bucket[b, i, j]], for the keys query i
    /// sees only: the others are masked in forward and never read backward.
    @inline(__always)
    private func addBias(to s: UnsafeMutablePointer<Float>, sequence b: Int, head h: Int, cache: Cache) {
        let n = cache.length
        if let pos = positionBias?.value.pointer {
            let table = pos + (options.positionBias == .perHead ? h * (2 * maxLength - 1) : 0) + maxLength - 1
            for i in 0..<n {
                let row = s + i * n, shifted = table - i
                for j in 0..<cache.visible(i, sequence: b) { row[j] += shifted[j] }
            }
        }
        if cache.hasTimes, let ts = timeBias?.value.pointer {
            cache.timeBuckets.values.withUnsafeBufferPointer { buckets in
                for i in 0..<n {
                    let row = s + i * n, bucketRow = buckets.start + (b * n + i) * n
                    for j in 0..<cache.visible(i, sequence: b) { row[j] += ts[Int(bucketRow[j])] }
                }
            }
        }
    }

    /// d pos_w[N−1+j−i] += dS;  d ts_w[bucket_b[i,j]] += dS. Each sequence sums its heads' dS into a
    /// partial table of its own, over the cores; the partials are then added in sequence order, so the
    /// result does not depend on how many cores there are.
    private func scatterBiasGradients(cache: Cache) {
        let n = cache.length
        let dPos = positionBias?.grad.pointer, dTs = cache.hasTimes ? timeBias?.grad.pointer : nil
        guard dPos != nil || dTs != nil else { return }
        let positionWidth = 2 * maxLength - 1
        let positionTables = options.positionBias == .perHead ? heads : 1
        let positionCount = dPos == nil ? 0 : positionTables * positionWidth
        let width = positionCount + (dTs == nil ? 0 : Self.timeBuckets + 1)
        let partials: Tensor
        if let kept = cache.biasPartials, kept.shape == [cache.batch, width] { partials = kept } else {
            partials = Tensor([cache.batch, width])
            cache.biasPartials = partials
        }
        partials.fill(0)
        cache.timeBuckets.values.withUnsafeBufferPointer { buckets in
            Parallel.forRows(cache.batch, minimumPerWorker: 1) { range in
                for b in range {
                    let partial = partials.pointer + b * width, timePartial = partial + positionCount
                    for h in 0..<heads {
                        let ds = cache.scratch.pointer + (b * heads + h) * n * n
                        let table = partial + (positionTables > 1 ? h * positionWidth : 0) + maxLength - 1
                        for i in 0..<n {
                            let row = ds + i * n, bucketRow = buckets.start + (b * n + i) * n
                            for j in 0..<cache.visible(i, sequence: b) where row[j] != 0 {
                                if dPos != nil { table[j - i] += row[j] }
                                if dTs != nil { timePartial[Int(bucketRow[j])] += row[j] }
                            }
                        }
                    }
                }
            }
        }
        for b in 0..<cache.batch {
            let partial = partials.pointer + b * width
            if let dPos { VectorMath.addScaled(partial, by: 1, into: dPos, count: positionCount) }
            if let dTs { VectorMath.addScaled(partial + positionCount, by: 1, into: dTs, count: Self.timeBuckets + 1) }
        }
    }
}
