import Foundation
import PleatCore

extension SampledSoftmax {
    /// The softmax over candidates drawn for each row on its own: `scores` is rows × `columns` of raw
    /// dot products (`ItemScores.forward`), column 0 the row's positive and the others its negatives, as
    /// RecTools' eSASRec benchmark samples them. Logits are scores/τ; a negative equal to the positive is
    /// masked (when `maskCollisions`). Writes ∂(mean loss)/∂scores into `gradient` for
    /// `ItemScores.backward`. No normalisation here: the scores arrive as dot products. A row whose
    /// positive is the padding id 0 has no target: no loss, no gradient, not in the mean.
    public func lossAndGradient(scores: [Float], ids: [Int32], columns: Int, gradient: inout [Float]) -> Double {
        let rows = scores.count / columns
        if gradient.count != scores.count { gradient = [Float](repeating: 0, count: scores.count) }
        guard rows > 0 else { return 0 }
        let targets = (0..<rows).count { ids[$0 * columns] > 0 }
        guard targets > 0 else {
            for i in gradient.indices { gradient[i] = 0 }
            return 0
        }
        let invT = 1 / temperature, rowWeight = 1 / Float(targets)
        var rowLoss = [Double](repeating: 0, count: rows)
        scores.withUnsafeBufferPointer { s in
            gradient.withUnsafeMutableBufferPointer { g in
                rowLoss.withUnsafeMutableBufferPointer { losses in
                    Parallel.forRows(rows) { range in
                        for r in range {
                            let z = s.start + r * columns, dz = g.start + r * columns
                            guard ids[r * columns] > 0 else { dz.update(repeating: 0, count: columns); continue }
                            let positive = ids[r * columns]
                            var m = -Float.infinity
                            for c in 0..<columns {
                                let masked = c > 0 && maskCollisions && ids[r * columns + c] == positive
                                dz[c] = masked ? -Float.infinity : z[c] * invT
                                m = max(m, dz[c])
                            }
                            var sum: Float = 0
                            for c in 0..<columns { dz[c] = expf(dz[c] - m); sum += dz[c] }
                            losses[r] = Double(m) + log(Double(sum)) - Double(z[0] * invT)
                            // d/dz_c = softmax_c − [c = 0], through the temperature; masked columns are 0.
                            let scale = rowWeight * invT / sum
                            for c in 0..<columns { dz[c] *= scale }
                            dz[0] -= rowWeight * invT
                        }
                    }
                }
            }
        }
        return rowLoss.reduce(0, +) / Double(targets)
    }
}
