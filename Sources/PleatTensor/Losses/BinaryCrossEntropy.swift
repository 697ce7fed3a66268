import Foundation

/// Binary cross-entropy on one positive and k negative scores per row (SASRec's BCE, gSASRec's gBCE),
/// model-spec §5.5(c, d):
///   ℓ = β·softplus(−s⁺) + Σ_k softplus(s⁻_k)    (= −β log σ(s⁺) − Σ log(1 − σ(s⁻)))
///   ∂ℓ/∂s⁺ = β(σ(s⁺) − 1),   ∂ℓ/∂s⁻ = σ(s⁻)
/// β = 1 is plain BCE. gBCE's β comes from the sampling rate (`gbceBeta`) and, like the reference, it
/// averages over the k + 1 terms. Rows with weight 0 are ignored; the result is the weighted row mean.
public struct BinaryCrossEntropy {
    public let beta: Float
    public let meanOverTerms: Bool

    public init(beta: Float = 1, meanOverTerms: Bool = false) {
        self.beta = beta
        self.meanOverTerms = meanOverTerms
    }

    /// gSASRec's calibration: α = k/(|I| − 1), β = α·(t(1 − 1/α) + 1/α).
    public static func gbceBeta(negatives k: Int, items: Int, t: Double) -> Float {
        let alpha = Double(k) / Double(items - 1)
        return Float(alpha * (t * (1 - 1 / alpha) + 1 / alpha))
    }

    /// `scores` rows × (1 + k): the positive first. Returns the loss and writes ∂loss/∂scores into
    /// `gradient` (reused by the caller from step to step).
    public func lossAndGradient(scores: [Float], columns: Int, weights: [Float], gradient: inout [Float]) -> Double {
        let rows = weights.count
        let total = weights.reduce(0) { $0 + Double($1) }
        if gradient.count != scores.count { gradient = [Float](repeating: 0, count: scores.count) }
        for i in gradient.indices { gradient[i] = 0 }
        guard total > 0 else { return 0 }
        let termScale = meanOverTerms ? 1 / Float(columns) : 1
        var loss = 0.0
        for r in 0..<rows where weights[r] > 0 {
            let w = Float(Double(weights[r]) / total) * termScale
            let positive = scores[r * columns]
            var rowLoss = Double(beta) * Self.softplus(-Double(positive))
            gradient[r * columns] = w * beta * (Activation.sigmoid(positive) - 1)
            for c in 1..<columns {
                let s = scores[r * columns + c]
                rowLoss += Self.softplus(Double(s))
                gradient[r * columns + c] = w * Activation.sigmoid(s)
            }
            loss += Double(w) * rowLoss
        }
        return loss
    }

    /// log(1 + eˣ), stable for large |x|.
    static func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }
}
