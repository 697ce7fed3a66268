import PleatCore

extension PointwiseAttention {
    /// The attention output of each sequence's last real position alone, into row b of `out`: what
    /// scoring reads from the last layer, for 1/n of `forward`'s scores. Query i = lengths[b] − 1 sees
    /// every real key (no context prefixes), so the row is `forward`'s row i: the same bias terms, the
    /// same SiLU/N; only the summation order of the products may differ. Evaluation only (no dropout);
    /// `timestamps` as in `forward` (`length + 1` per sequence).
    public func forwardLast(q: StridedRows, k: StridedRows, v: StridedRows, batch: Int, length n: Int,
                            lengths: UnsafeBufferPointer<Int32>, timestamps: UnsafePointer<Int64>?, out: StridedRows) {
        precondition(n <= maxLength, "sequence length \(n) exceeds the model's \(maxLength)")
        let inverseN = 1 / Float(maxLength)
        let times = timeBias != nil ? timestamps : nil
        let positions = positionBias?.value.pointer, timeTable = timeBias?.value.pointer
        Self.bucketStarts.withUnsafeBufferPointer { starts in
            Parallel.forRows(batch, minimumPerWorker: 4) { range in
                let scores = UnsafeMutablePointer<Float>.allocate(capacity: n), weights = UnsafeMutablePointer<Float>.allocate(capacity: n)
                let buckets = UnsafeMutablePointer<UInt8>.allocate(capacity: n)
                defer { scores.deallocate(); weights.deallocate(); buckets.deallocate() }
                for b in range {
                    let count = Int(lengths[b]), row = out.base + b * out.stride
                    guard count > 0 else { row.update(repeating: 0, count: heads * vDim); continue }
                    let i = count - 1
                    if let times {
                        let t = times + b * (n + 1)
                        Self.fillBuckets(buckets, next: t[i + 1], times: t, count: count, starts: starts)
                    }
                    for h in 0..<heads {
                        Gemm.multiply(q.base + (b * n + i) * q.stride + h * qkDim, k.block(sequence: b, length: n, head: h, width: qkDim),
                                      transposeB: true, into: scores, m: 1, n: count, k: qkDim, alpha: options.scale,
                                      lda: q.stride, ldb: k.stride)
                        if let positions {
                            let table = positions + (options.positionBias == .perHead ? h * (2 * maxLength - 1) : 0) + maxLength - 1
                            for j in 0..<count { scores[j] += table[j - i] }
                        }
                        if times != nil, let timeTable { for j in 0..<count { scores[j] += timeTable[Int(buckets[j])] } }
                        VectorMath.siluRow(scores, into: weights, count: count, visible: count, scale: inverseN)
                        Gemm.multiply(weights, v.block(sequence: b, length: n, head: h, width: vDim), into: row + h * vDim,
                                      m: 1, n: vDim, k: count, ldb: v.stride, ldc: out.stride)
                    }
                }
            }
        }
    }
}
