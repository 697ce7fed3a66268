import XCTest
import PleatCore
@testable import PleatTensor
import PleatTestSupport

/// Q, K and V are column blocks of one matrix, as they come out of a fused projection.
final class AttentionGradientTests: XCTestCase {
    let batch = 2, length = 5, heads = 2, dim = 3

    func testSoftmaxAttentionCausalAndBidirectionalWithPadding() {
        for causal in [true, false] {
            let width = heads * dim
            let qkv = GradientCheck.random([batch * length, 3 * width], seed: 21)
            let out = Tensor([batch * length, width]), w = GradientCheck.random([batch * length, width], seed: 22)
            // Sequence 1 has two padded key positions at the start (left padding, as SASRec).
            var valid = [Float](repeating: 1, count: batch * length)
            valid[length] = 0; valid[length + 1] = 0
            let attention = SoftmaxAttention(heads: heads, headDim: dim, causal: causal, causalBlockRows: 1)
            let cache = SoftmaxAttention.Cache(batch: batch, length: length, heads: heads, dropout: 0)
            let all = StridedRows(qkv)
            let q = all, k = all.offset(columns: width), v = all.offset(columns: 2 * width)
            func loss() -> Double {
                var rng: RandomSource? = nil
                valid.withUnsafeBufferPointer { attention.forward(q: q, k: k, v: v, keyValid: $0.baseAddress, out: StridedRows(out), cache: cache, rng: &rng) }
                return GradientCheck.weightedSum(out, w)
            }
            _ = loss()
            // A causal row whose only visible keys are padding outputs zeros.
            if causal { XCTAssertEqual(Array(out.array[(length * width)..<(length * width + width)]), [Float](repeating: 0, count: width)) }
            let grad = Tensor([batch * length, 3 * width])
            let g = StridedRows(grad)
            attention.backward(q: q, k: k, v: v, dOut: StridedRows(w), cache: cache,
                               dq: g, dk: g.offset(columns: width), dv: g.offset(columns: 2 * width))
            GradientCheck.check(qkv, gradient: grad, "softmax attention (causal: \(causal))", loss: loss)
        }

    }

    /// The sink is the left padding it stands for: sequence b's real rows attend as they would after
    /// `padding[b]` rows whose keys and values are the sink's (a left-padded window: those rows come first
    /// and every real row sees them), computed here with explicit rows as context tokens. Then its
    /// gradients, the sink's key and value included, against central differences, with dropout on.
    func testSinkIsTheLeftPaddingItStandsFor() {
        let width = heads * dim, n = 4, lengths = [2, 4], padding = [3, 1]
        let qkv = GradientCheck.random([batch * n, 3 * width], seed: 41)
        let sinkKey = GradientCheck.random([1, width], seed: 42), sinkValue = GradientCheck.random([1, width], seed: 43)
        let logCounts = padding.map { logf(Float($0)) }
        let out = Tensor([batch * n, width])
        let keyGradient = Tensor([1, width]), valueGradient = Tensor([1, width])
        func forward(dropout: Float, into out: Tensor, cache: SoftmaxAttention.Cache, seed: UInt64?) {
            let attention = SoftmaxAttention(heads: heads, headDim: dim, causal: true, dropout: dropout, causalBlockRows: 1)
            let all = StridedRows(qkv)
            logCounts.withUnsafeBufferPointer { counts in
                let sink = SoftmaxAttention.Sink(key: sinkKey.pointer, value: sinkValue.pointer, logCounts: counts.baseAddress!,
                                                 keyGradient: keyGradient.pointer, valueGradient: valueGradient.pointer)
                var rng: RandomSource? = seed.map { RandomSource(seed: $0) }
                attention.forward(q: all, k: all.offset(columns: width), v: all.offset(columns: 2 * width), keyValid: nil,
                                  sink: sink, out: StridedRows(out), cache: cache, rng: &rng)
            }
        }
        forward(dropout: 0, into: out, cache: .init(batch: batch, length: n, heads: heads, dropout: 0, headDim: dim), seed: nil)
        for b in 0..<batch {
            let rows = padding[b] + lengths[b]
            let explicit = Tensor([rows, 3 * width]), reference = Tensor([rows, width])
            for r in 0..<rows {
                for c in 0..<width {
                    let real = r - padding[b]
                    explicit[r * 3 * width + c] = real >= 0 ? qkv[(b * n + real) * 3 * width + c] : 0
                    explicit[r * 3 * width + width + c] = real >= 0 ? qkv[(b * n + real) * 3 * width + width + c] : sinkKey[c]
                    explicit[r * 3 * width + 2 * width + c] = real >= 0 ? qkv[(b * n + real) * 3 * width + 2 * width + c] : sinkValue[c]
                }
            }
            let attention = SoftmaxAttention(heads: heads, headDim: dim, causal: true, causalBlockRows: 1)
            let all = StridedRows(explicit), prefix = [Int32(padding[b])]
            var noDropout: RandomSource? = nil
            prefix.withUnsafeBufferPointer {
                attention.forward(q: all, k: all.offset(columns: width), v: all.offset(columns: 2 * width), keyValid: nil, prefixes: $0.baseAddress,
                                  out: StridedRows(reference), cache: .init(batch: 1, length: rows, heads: heads, dropout: 0), rng: &noDropout)
            }
            for i in 0..<lengths[b] {
                for c in 0..<width {
                    XCTAssertEqual(out[(b * n + i) * width + c], reference[(padding[b] + i) * width + c], accuracy: 1e-5, "sequence \(b), row \(i)")
                }
            }
        }

        let cache = SoftmaxAttention.Cache(batch: batch, length: n, heads: heads, dropout: 0.3, headDim: dim)
        let w = GradientCheck.random([batch * n, width], seed: 44)
        func loss() -> Double {
            forward(dropout: 0.3, into: out, cache: cache, seed: 45)
            return GradientCheck.weightedSum(out, w)
        }
        _ = loss()
        let grad = Tensor([batch * n, 3 * width]), g = StridedRows(grad), all = StridedRows(qkv)
        logCounts.withUnsafeBufferPointer { counts in
            let sink = SoftmaxAttention.Sink(key: sinkKey.pointer, value: sinkValue.pointer, logCounts: counts.baseAddress!,
                                             keyGradient: keyGradient.pointer, valueGradient: valueGradient.pointer)
            SoftmaxAttention(heads: heads, headDim: dim, causal: true, dropout: 0.3, causalBlockRows: 1)
                .backward(q: all, k: all.offset(columns: width), v: all.offset(columns: 2 * width), dOut: StridedRows(w), cache: cache,
                          dq: g, dk: g.offset(columns: width), dv: g.offset(columns: 2 * width), sink: sink)
        }
        GradientCheck.check(qkv, gradient: grad, "attention with a sink", loss: loss)
        GradientCheck.check(sinkKey, gradient: keyGradient, "the sink's key", loss: loss)
        GradientCheck.check(sinkValue, gradient: valueGradient, "the sink's value", loss: loss)
    }

    /// Causal attention after context tokens (SASRec fold tokens): sequence 0 starts with 3 of them,
    /// sequence 1 with 1. Context tokens see one another; later positions see them and their own past.
    func testSoftmaxAttentionWithContextPrefixes() {
        let width = heads * dim, prefixes: [Int32] = [3, 1]
        let qkv = GradientCheck.random([batch * length, 3 * width], seed: 31)
        let out = Tensor([batch * length, width]), w = GradientCheck.random([batch * length, width], seed: 32)
        let attention = SoftmaxAttention(heads: heads, headDim: dim, causal: true, dropout: 0.3, causalBlockRows: 1)
        let cache = SoftmaxAttention.Cache(batch: batch, length: length, heads: heads, dropout: 0.3)
        let all = StridedRows(qkv)
        let q = all, k = all.offset(columns: width), v = all.offset(columns: 2 * width)
        func loss() -> Double {
            var rng: RandomSource? = RandomSource(seed: 33)
            prefixes.withUnsafeBufferPointer {
                attention.forward(q: q, k: k, v: v, keyValid: nil, prefixes: $0.baseAddress, out: StridedRows(out), cache: cache, rng: &rng)
            }
            return GradientCheck.weightedSum(out, w)
        }
        _ = loss()
        let grad = Tensor([batch * length, 3 * width]), g = StridedRows(grad)
        attention.backward(q: q, k: k, v: v, dOut: StridedRows(w), cache: cache, dq: g, dk: g.offset(columns: width), dv: g.offset(columns: 2 * width))
        GradientCheck.check(qkv, gradient: grad, "attention with context prefixes", loss: loss)

        // Query 0 of sequence 0 sees context key 2; query 3 does not see key 4; sequence 1 is untouched.
        var noDropout: RandomSource? = nil
        func run() -> [Float] {
            prefixes.withUnsafeBufferPointer {
                attention.forward(q: q, k: k, v: v, keyValid: nil, prefixes: $0.baseAddress, out: StridedRows(out), cache: cache, rng: &noDropout)
            }
            return out.array
        }
        let before = run()
        qkv[2 * 3 * width + 2 * width] += 1
        let after = run()
        XCTAssertNotEqual(after[0], before[0], "a context token sees later context tokens")
        XCTAssertEqual(Array(after[(length * width)...]), Array(before[(length * width)...]), "other sequences are untouched")
        qkv[4 * 3 * width + 2 * width] += 1
        XCTAssertEqual(Array(run()[(3 * width)..<(4 * width)]), Array(after[(3 * width)..<(4 * width)]), "a window position does not see its future")
    }

    func testSoftmaxAttentionDropoutBackwardUsesTheForwardMask() {
        let width = heads * dim
        let qkv = GradientCheck.random([batch * length, 3 * width], seed: 23)
        let out = Tensor([batch * length, width]), w = GradientCheck.random([batch * length, width], seed: 24)
        let attention = SoftmaxAttention(heads: heads, headDim: dim, causal: true, dropout: 0.3, causalBlockRows: 1)
        let cache = SoftmaxAttention.Cache(batch: batch, length: length, heads: heads, dropout: 0.3)
        let all = StridedRows(qkv)
        let q = all, k = all.offset(columns: width), v = all.offset(columns: 2 * width)
        // The same seed draws the same mask on every call, so the loss is a smooth function of the inputs.
        func loss() -> Double {
            var rng: RandomSource? = RandomSource(seed: 99)
            attention.forward(q: q, k: k, v: v, keyValid: nil, out: StridedRows(out), cache: cache, rng: &rng)
            return GradientCheck.weightedSum(out, w)
        }
        _ = loss()
        let grad = Tensor([batch * length, 3 * width]), g = StridedRows(grad)
        attention.backward(q: q, k: k, v: v, dOut: StridedRows(w), cache: cache, dq: g, dk: g.offset(columns: width), dv: g.offset(columns: 2 * width))
        GradientCheck.check(qkv, gradient: grad, "attention with dropout", loss: loss)
    }

    /// Causal products cut into row blocks (each against the keys up to its last row) give what one
    /// block gives, forward and backward, with context prefixes and dropout, at a length that does not
    /// divide evenly (37 positions, blocks of 9-10): only the order of sums inside a product may differ.
    func testBlockedCausalProductsMatchTheFullSquare() {
        let n = 37, sequences = 3, width = heads * dim, prefixes: [Int32] = [0, 12, 37]
        let qkv = GradientCheck.random([sequences * n, 3 * width], seed: 41), w = GradientCheck.random([sequences * n, width], seed: 42)
        let all = StridedRows(qkv), q = all, k = all.offset(columns: width), v = all.offset(columns: 2 * width)
        func run(blockRows: Int) -> (out: [Float], grad: [Float]) {
            let attention = SoftmaxAttention(heads: heads, headDim: dim, causal: true, dropout: 0.2, causalBlockRows: blockRows)
            XCTAssertEqual(attention.spans(length: n, prefix: 0).count, blockRows == 1 ? 4 : 1)
            let cache = SoftmaxAttention.Cache(batch: sequences, length: n, heads: heads, dropout: 0.2)
            let out = Tensor([sequences * n, width]), grad = Tensor([sequences * n, 3 * width]), g = StridedRows(grad)
            var rng: RandomSource? = RandomSource(seed: 43)
            prefixes.withUnsafeBufferPointer {
                attention.forward(q: q, k: k, v: v, keyValid: nil, prefixes: $0.baseAddress, out: StridedRows(out), cache: cache, rng: &rng)
            }
            attention.backward(q: q, k: k, v: v, dOut: StridedRows(w), cache: cache, dq: g, dk: g.offset(columns: width), dv: g.offset(columns: 2 * width))
            return (out.array, grad.array)
        }
        let blocked = run(blockRows: 1), full = run(blockRows: 1_000)
        for (a, b) in [(blocked.out, full.out), (blocked.grad, full.grad)] {
            let worst = zip(a, b).map { abs($0 - $1) }.max()!, scale = b.map(abs).max()!
            XCTAssertLessThan(worst, 1e-5 * scale, "largest difference \(worst) of \(scale)")
        }
    }

    func testPointwiseAttentionResearchAndBenchmarkVariants() {
        var benchmark = PointwiseAttention.Options()
        (benchmark.scale, benchmark.positionBias, benchmark.timeBias, benchmark.dropout) = (1 / Float(3).squareRoot(), .perHead, false, 0.25)
        // The research variant also with context prefixes (fold tokens): 2 and 1 leading tokens that see
        // each other in both directions.
        for (options, prefixes) in [(PointwiseAttention.Options(), nil), (benchmark, nil), (PointwiseAttention.Options(), [Int32(2), 1])] {
            let width = heads * dim, maxLength = 6
            let store = ParameterStore()
            // Row blocks of one row: the gradients are checked through the blocked products.
            let attention = PointwiseAttention(store, "hstu0", heads: heads, qkDim: dim, vDim: dim, maxLength: maxLength, options: options,
                                               causalBlockRows: 1)
            var rng = RandomSource(seed: 25)
            Initializer.normal(attention.positionBias!.value, std: 0.5, rng: &rng)
            if let ts = attention.timeBias { Initializer.normal(ts.value, std: 0.5, rng: &rng) }
            let qkv = GradientCheck.random([batch * length, 3 * width], seed: 26)
            let out = Tensor([batch * length, width]), w = GradientCheck.random([batch * length, width], seed: 27)
            let lengths: [Int32] = [5, 3]
            // Seconds; spans from 0 s to weeks so that many buckets are used. length + 1 per sequence.
            let timestamps: [Int64] = [0, 30, 4_000, 90_000, 700_000, 2_000_000,
                                       100, 100, 200, 5_000, 0, 0]
            let cache = PointwiseAttention.Cache(batch: batch, length: length, heads: heads, dropout: options.dropout)
            let all = StridedRows(qkv)
            let q = all, k = all.offset(columns: width), v = all.offset(columns: 2 * width)
            func loss() -> Double {
                var dropoutRng: RandomSource? = RandomSource(seed: 5)  // the same masks on every evaluation
                lengths.withUnsafeBufferPointer { l in
                    timestamps.withUnsafeBufferPointer { t in
                        (prefixes ?? [0, 0]).withUnsafeBufferPointer { p in
                            attention.forward(q: q, k: k, v: v, lengths: l, prefixes: prefixes == nil ? nil : p, timestamps: t.baseAddress,
                                              out: StridedRows(out), cache: cache, rng: &dropoutRng)
                        }
                    }
                }
                return GradientCheck.weightedSum(out, w)
            }
            _ = loss()
            let grad = Tensor([batch * length, 3 * width]), g = StridedRows(grad)
            attention.backward(q: q, k: k, v: v, dOut: StridedRows(w), cache: cache, dq: g, dk: g.offset(columns: width), dv: g.offset(columns: 2 * width))
            let variant = (options.timeBias ? "research" : "benchmark") + (prefixes == nil ? "" : " with prefixes")
            GradientCheck.check(qkv, gradient: grad, "HSTU attention dq, dk, dv (\(variant))", loss: loss)
            GradientCheck.check(attention.positionBias!.value, gradient: attention.positionBias!.grad, "pos_w (\(variant))", loss: loss)
            if let ts = attention.timeBias {
                let numeric = GradientCheck.check(ts.value, gradient: ts.grad, "ts_w", loss: loss) ?? []
                XCTAssertGreaterThan(numeric.filter { abs($0) > 1e-6 }.count, 5, "several time buckets in use")
            }
            if prefixes != nil {
                // Query 0 of sequence 0 sees key 1 (both are context tokens): its output depends on v[1].
                let before = out.array
                qkv[1 * 3 * width + 2 * width] += 1
                _ = loss()
                XCTAssertNotEqual(out[0], before[0], "context tokens see later context tokens")
                XCTAssertEqual(Array(out.array[(length * width)..<(length * width + width)]), Array(before[(length * width)..<(length * width + width)]),
                               "other sequences are untouched")
            }
        }
    }

    /// HSTU's attention in row blocks gives what one block gives, forward and backward (inputs and both
    /// bias tables), with context prefixes, a short sequence, time buckets and dropout, at 37 positions.
    func testBlockedPointwiseProductsMatchTheFullSquare() {
        let n = 37, sequences = 3, width = heads * dim, prefixes: [Int32] = [0, 12, 37], lengths: [Int32] = [37, 30, 37]
        let qkv = GradientCheck.random([sequences * n, 3 * width], seed: 51), w = GradientCheck.random([sequences * n, width], seed: 52)
        let all = StridedRows(qkv), q = all, k = all.offset(columns: width), v = all.offset(columns: 2 * width)
        var clock = RandomSource(seed: 53), time: Int64 = 0
        let timestamps: [Int64] = (0..<(sequences * (n + 1))).map { j in
            if j % (n + 1) == 0 { time = 0 }
            time += Int64(clock.below(100_000))
            return time
        }
        var options = PointwiseAttention.Options()
        options.dropout = 0.2
        func run(blockRows: Int) -> [[Float]] {
            let store = ParameterStore()
            let attention = PointwiseAttention(store, "hstu0", heads: heads, qkDim: dim, vDim: dim, maxLength: n, options: options,
                                               causalBlockRows: blockRows)
            var rng = RandomSource(seed: 54)
            Initializer.normal(attention.positionBias!.value, std: 0.5, rng: &rng)
            Initializer.normal(attention.timeBias!.value, std: 0.5, rng: &rng)
            XCTAssertEqual(attention.rowBlocks(PointwiseAttention.Cache(batch: 1, length: n, heads: heads), sequence: 0).count, blockRows == 1 ? 4 : 1)
            let cache = PointwiseAttention.Cache(batch: sequences, length: n, heads: heads, dropout: options.dropout)
            let out = Tensor([sequences * n, width]), grad = Tensor([sequences * n, 3 * width]), g = StridedRows(grad)
            var dropoutRng: RandomSource? = RandomSource(seed: 55)
            lengths.withUnsafeBufferPointer { l in
                timestamps.withUnsafeBufferPointer { t in
                    prefixes.withUnsafeBufferPointer { p in
                        attention.forward(q: q, k: k, v: v, lengths: l, prefixes: p, timestamps: t.baseAddress, out: StridedRows(out),
                                          cache: cache, rng: &dropoutRng)
                    }
                }
            }
            attention.backward(q: q, k: k, v: v, dOut: StridedRows(w), cache: cache, dq: g, dk: g.offset(columns: width), dv: g.offset(columns: 2 * width))
            return [out.array, grad.array, attention.positionBias!.grad.array, attention.timeBias!.grad.array]
        }
        let blocked = run(blockRows: 1), full = run(blockRows: 1_000)
        for (name, (a, b)) in zip(["output", "dq dk dv", "d pos_w", "d ts_w"], zip(blocked, full)) {
            let worst = zip(a, b).map { abs($0 - $1) }.max()!, scale = b.map(abs).max()!
            XCTAssertGreaterThan(scale, 0, name)
            XCTAssertLessThan(worst, 1e-5 * scale, "\(name): largest difference \(worst) of \(scale)")
        }
    }

    func testTimeBucketsMatchTheReference() {
        // Examples from model-spec §1.5: 0–1 s → 0; 60 s → 13; 1 h → 27; 1 day → 37; 1 week → 44; 1 year → 57.
        let cases: [(Int64, UInt8)] = [(0, 0), (1, 0), (60, 13), (3_600, 27), (86_400, 37), (604_800, 44), (31_536_000, 57), (-60, 13)]
        for (delta, bucket) in cases { XCTAssertEqual(PointwiseAttention.bucket(delta), bucket, "\(delta) s") }
        XCTAssertEqual(PointwiseAttention.bucket(Int64.max / 2), 128, "clamped")
        // The log-free walk used in the attention gives the same buckets, boundaries included, on ordered
        // and unordered times.
        var rng = RandomSource(seed: 4)
        var deltas: [Int64] = [0, 1, 2, -1, Int64.max, Int64.min + 1]
        for start in PointwiseAttention.bucketStarts { deltas += [start - 1, start, start + 1, -start] }
        for _ in 0..<20_000 { deltas.append(Int64(exp(rng.uniform() * 40)) * (rng.below(2) == 0 ? 1 : -1)) }
        let sorted = deltas.sorted()
        for times in [deltas, sorted] {
            var row = [UInt8](repeating: 0, count: times.count)
            PointwiseAttention.bucketStarts.withUnsafeBufferPointer { starts in
                PointwiseAttention.fillBuckets(&row, next: 0, times: times, count: times.count, starts: starts)
            }
            for (j, time) in times.enumerated() where row[j] != PointwiseAttention.bucket(0 &- time) {
                XCTFail("time \(time): \(row[j]) instead of \(PointwiseAttention.bucket(0 &- time))"); break
            }
        }
    }
}
