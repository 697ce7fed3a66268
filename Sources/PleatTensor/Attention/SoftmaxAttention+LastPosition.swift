import Foundation
import PleatCore

extension SoftmaxAttention {
    /// Causal attention for each sequence's last real position alone, into row b of `out`: what
    /// scoring reads from the last layer. Query i = lengths[b] − 1 sees keys 0...i (no context prefixes,
    /// no padding before it), so the row is `forward`'s row i up to the summation order. Evaluation only.
    public func forwardLast(q: StridedRows, k: StridedRows, v: StridedRows, batch: Int, length n: Int,
                            lengths: UnsafeBufferPointer<Int32>, sink: Sink? = nil, out: StridedRows) {
        precondition(causal, "only a causal attention has a last position that sees the whole sequence")
        let d = headDim, scale = 1 / Float(d).squareRoot()
        Parallel.forRows(batch, minimumPerWorker: 4) { range in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
            defer { p.deallocate() }
            for b in range {
                let count = Int(lengths[b]), row = out.base + b * out.stride
                guard count > 0 else { row.update(repeating: 0, count: heads * d); continue }
                let i = count - 1
                for h in 0..<heads {
                    Gemm.multiply(q.base + (b * n + i) * q.stride + h * d, k.block(sequence: b, length: n, head: h, width: d),
                                  transposeB: true, into: p, m: 1, n: count, k: d, alpha: scale, lda: q.stride, ldb: k.stride)
                    let sinkLogit = sink?.logit(q.base + (b * n + i) * q.stride + h * d, sequence: b, head: h, width: d, scale: scale) ?? -.infinity
                    let m = max(VectorMath.maximum(p, count: count), sinkLogit)
                    let sinkWeight = sinkLogit > -.infinity ? Foundation.exp(sinkLogit - m) : 0
                    let sum = VectorMath.expShiftAndSum(p, count: count, shift: m) + sinkWeight
                    VectorMath.scale(p, count: count, by: 1 / sum)
                    Gemm.multiply(p, v.block(sequence: b, length: n, head: h, width: d), into: row + h * d,
                                  m: 1, n: d, k: count, ldb: v.stride, ldc: out.stride)
                    if let sink { VectorMath.addScaled(sink.value + h * d, by: sinkWeight / sum, into: row + h * d, count: d) }
                }
            }
        }
    }
}
