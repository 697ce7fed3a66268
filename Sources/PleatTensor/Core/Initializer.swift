import Foundation
import PleatCore

/// Weight initialisations used by the reference models.
public enum Initializer {
    /// Normal(0, std²), truncated at two standard deviations (BERT).
    public static func truncatedNormal(_ t: Tensor, std: Float, rng: inout RandomSource) {
        for i in 0..<t.count {
            var z: Double
            repeat { z = rng.normal() } while abs(z) > 2
            t[i] = Float(z) * std
        }
    }

    public static func normal(_ t: Tensor, std: Float, rng: inout RandomSource) {
        for i in 0..<t.count { t[i] = Float(rng.normal()) * std }
    }

    public static func xavierNormal(_ t: Tensor, rng: inout RandomSource) {
        let fanOut = t.shape.first ?? 1, fanIn = t.count / max(fanOut, 1)
        normal(t, std: Float((2.0 / Double(fanIn + fanOut)).squareRoot()), rng: &rng)
    }
}
