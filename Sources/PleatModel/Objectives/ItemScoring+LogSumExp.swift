import Foundation
import PleatTensor

extension ItemScoring {
    /// Per query, log Σ_j exp(scale · score[r, j]) over items 1...items except `excluded[r]` (ascending):
    /// the normaliser of a softmax over the catalogue, as the loss sees it (`scale` = 1/temperature),
    /// computed in blocks like `topK` so that no full row exists. −∞ when every item is excluded.
    /// The plain dot products: `overrides` play no part. `scratch` holds at least `count × blockColumns` floats.
    public func logSumExp(scale: Float, excluding excluded: [[Int32]], scratch: Tensor) -> [Double] {
        precondition(excluded.count == count && scratch.count >= count * Self.blockColumns)
        let d = users.columns
        var result = [Double](repeating: -.infinity, count: count)
        result.withUnsafeMutableBufferPointer { result in
            Parallel.forRows(count, minimumPerWorker: 8) { rows in
                let block = scratch.pointer + rows.lowerBound * Self.blockColumns
                var next = [Int](repeating: 0, count: rows.count)
                var maxima = [Float](repeating: -.infinity, count: rows.count), sums = [Double](repeating: 0, count: rows.count)
                for first in stride(from: 1, through: items, by: Self.blockColumns) {
                    let width = min(Self.blockColumns, items + 1 - first), end = Int32(first + width)
                    Gemm.multiply(users.pointer + rows.lowerBound * d, table + first * d, transposeB: true,
                                  into: block, m: rows.count, n: width, k: d, alpha: scale)
                    for q in 0..<rows.count {
                        let row = block + q * width, leftOut = excluded[rows.lowerBound + q]
                        if let bias { VectorMath.addScaled(bias + first, by: scale, into: row, count: width) }
                        while next[q] < leftOut.count && leftOut[next[q]] < end {
                            let item = Int(leftOut[next[q]])
                            if item >= first { row[item - first] = -.infinity }
                            next[q] += 1
                        }
                        let m = VectorMath.maximum(row, count: width)
                        guard m > -.infinity else { continue }
                        // A running log-sum-exp: the sum so far is rescaled when the maximum rises.
                        let top = max(m, maxima[q])
                        sums[q] = sums[q] * Foundation.exp(Double(maxima[q] - top))
                            + Double(VectorMath.expShiftAndSum(row, count: width, shift: top))
                        maxima[q] = top
                    }
                }
                for q in 0..<rows.count where sums[q] > 0 { result[rows.lowerBound + q] = Double(maxima[q]) + log(sums[q]) }
            }
        }
        return result
    }
}
