import Foundation

/// Sampled softmax with shared uniform negatives, model-spec §1.6 and §5.5(b). For each row r with
/// query q_r and label y_r:
///   z_0 = ⟨q, n(E[y])⟩/τ,  z_k = ⟨q, n(E[neg_k])⟩/τ, or −5·10⁴ (a constant) where neg_k = y,
///   ℓ = lse(z) − z_0,  mean over weighted rows.
/// The defaults are HSTU's (n = L2 normalisation, τ = 0.05, collisions masked); with
/// `normalize: false, temperature: 1, maskCollisions: false` it is the plain shared-negative softmax
/// of the `sasrec-sampled` benchmark. The negatives are shared by the batch, so their logits are one GEMM.
public struct SampledSoftmax {
    public let temperature: Float
    public let normalize: Bool
    public let maskCollisions: Bool
    static let collision: Float = -5e4
    private let scratch = Scratch()

    public init(temperature: Float = 0.05, normalize: Bool = true, maskCollisions: Bool = true) {
        self.temperature = temperature
        self.normalize = normalize
        self.maskCollisions = maskCollisions
    }

    /// Writes dQuery (overwritten) and scatter-adds into the table's gradient. `negativeOffsets[k]` and
    /// `positiveOffsets[r]` (nil: 0) are subtracted from the logits after the temperature: the logQ
    /// correction of a non-uniform sampler (log of each item's expected count among the negatives),
    /// constants to the gradient. `overrides` (one row per query; nil: none) replace the scores of their
    /// items, before the temperature, wherever an item is the row's positive or
    /// one of the negatives, and their gradients written back to them.
    public func lossAndGradient(query: Tensor, table: Parameter, labels: [Int32], negatives: [Int32],
                                weights: [Float]? = nil, negativeOffsets: [Float]? = nil, positiveOffsets: [Float]? = nil,
                                overrides: ScoreOverrides? = nil, dQuery: Tensor) -> Double {
        let rows = query.rows, d = query.columns, k = negatives.count
        var totalWeight = 0.0
        for r in 0..<rows where labels[r] >= 0 { totalWeight += Double(weights?[r] ?? 1) }
        dQuery.zero()
        guard totalWeight > 0 else { return 0 }
        let invT = 1 / temperature

        // Embeddings (normalised, by default) of the positives (per row) and the shared negatives.
        let positiveRaw = scratch.tensor("positiveRaw", [rows, d]), negativeRaw = scratch.tensor("negativeRaw", [k, d])
        let e = table.value.pointer
        for r in 0..<rows { (positiveRaw.pointer + r * d).update(from: e + Int(max(labels[r], 0)) * d, count: d) }
        for j in 0..<k { (negativeRaw.pointer + j * d).update(from: e + Int(negatives[j]) * d, count: d) }
        let positive = normalize ? scratch.tensor("positive", [rows, d]) : positiveRaw, positiveNorms = scratch.tensor("positiveNorms", [rows])
        let negative = normalize ? scratch.tensor("negative", [k, d]) : negativeRaw, negativeNorms = scratch.tensor("negativeNorms", [k])
        if normalize {
            L2Normalize.forward(positiveRaw, into: positive, norms: positiveNorms)
            L2Normalize.forward(negativeRaw, into: negative, norms: negativeNorms)
        }

        let logits = scratch.tensor("logits", [rows, k])
        Gemm.multiply(query.pointer, negative.pointer, transposeB: true, into: logits.pointer, m: rows, n: k, k: d, alpha: invT)
        let dPositive = scratch.tensor("dPositive", [rows, d])  // ∂ℓ/∂n(E[y]) per row
        let rowLoss = scratch.tensor("rowLoss", [rows])
        rowLoss.zero()
        precondition((overrides?.rows ?? rows) == rows, "one row of overrides per query")
        // The columns of each negative item, for the overrides (an item may be drawn more than once).
        var columnsOf: [Int32: [Int]] = [:]
        if overrides != nil { for (j, item) in negatives.enumerated() { columnsOf[item, default: []].append(j) } }
        let run = { (overrides: ScoreOverrides.Access?) in Parallel.forRows(rows) { range in
            for r in range {
                let z = logits.pointer + r * k, q = query.pointer + r * d, p = positive.pointer + r * d
                guard labels[r] >= 0 else { z.update(repeating: 0, count: k); continue }
                var z0: Float = 0
                for i in 0..<d { z0 += q[i] * p[i] }
                z0 *= invT
                if let positiveOffsets { z0 -= positiveOffsets[r] }
                if let negativeOffsets { for j in 0..<k { z[j] -= negativeOffsets[j] } }
                if let overrides {
                    for e in overrides.entries(row: r) {
                        let item = overrides.item(e), o = overrides.value(e) * invT
                        if item == labels[r] { z0 = o }
                        for j in columnsOf[item] ?? [] { z[j] = o }
                    }
                }
                if maskCollisions { for j in 0..<k where negatives[j] == labels[r] { z[j] = Self.collision } }
                var m = z0
                for j in 0..<k { m = max(m, z[j]) }
                var sum = expf(z0 - m)
                for j in 0..<k { sum += expf(z[j] - m) }
                let w = Float(Double(weights?[r] ?? 1) / totalWeight)
                rowLoss[r] = Float(Double(w) * (Double(m) + log(Double(sum)) - Double(z0)))
                // dz_0 = p_0 − 1; dz_k = p_k, and 0 for collisions (their logit is a constant).
                var dz0 = w * (expf(z0 - m) / sum - 1)
                for j in 0..<k { z[j] = z[j] == Self.collision ? 0 : w * expf(z[j] - m) / sum }
                if let overrides {
                    // A replaced score's gradient goes to the head alone, none to its dot product.
                    var replacedPositive = false
                    for e in overrides.entries(row: r) {
                        let item = overrides.item(e)
                        var g = item == labels[r] ? dz0 : 0
                        replacedPositive = replacedPositive || item == labels[r]
                        for j in columnsOf[item] ?? [] {
                            g += z[j]
                            z[j] = 0
                        }
                        overrides.setGradient(e, invT * g)
                    }
                    if replacedPositive { dz0 = 0 }
                }
                let dq = dQuery.pointer + r * d, dp = dPositive.pointer + r * d
                for i in 0..<d { dq[i] = invT * dz0 * p[i]; dp[i] = invT * dz0 * q[i] }
            }
        } }
        if let overrides { overrides.withAccess { run($0) } } else { run(nil) }
        var loss = 0.0
        for r in 0..<rows { loss += Double(rowLoss[r]) }
        // dq += (1/τ) dZ_neg · n(E_neg);  d n(E_neg) = (1/τ) dZ_negᵀ q.
        Gemm.multiply(logits.pointer, negative.pointer, into: dQuery.pointer, m: rows, n: d, k: k, alpha: invT, beta: 1)
        let dNegative = scratch.tensor("dNegative", [k, d])
        Gemm.multiply(logits.pointer, transposeA: true, query.pointer, into: dNegative.pointer, m: k, n: d, k: rows, alpha: invT)
        // Back through the L2 normalisation, then scatter into the table rows.
        var dPositiveRaw = dPositive, dNegativeRaw = dNegative
        if normalize {
            dPositiveRaw = scratch.tensor("dPositiveRaw", [rows, d])
            dNegativeRaw = scratch.tensor("dNegativeRaw", [k, d])
            L2Normalize.backward(positive, norms: positiveNorms, dPositive, dx: dPositiveRaw)
            L2Normalize.backward(negative, norms: negativeNorms, dNegative, dx: dNegativeRaw)
        }
        let g = table.grad.pointer
        for r in 0..<rows where labels[r] >= 0 {
            let row = g + Int(labels[r]) * d, src = dPositiveRaw.pointer + r * d
            for i in 0..<d { row[i] += src[i] }
        }
        for j in 0..<k {
            let row = g + Int(negatives[j]) * d, src = dNegativeRaw.pointer + j * d
            for i in 0..<d { row[i] += src[i] }
        }
        return loss
    }
}
