import Foundation

/// Learning rate as a function of the step (1-based).
public enum LearningRateSchedule: Sendable, Codable, Equatable {
    case constant(Float)
    /// Linear warm-up from 0 to `peak` over `warmup` steps, then constant.
    case warmup(peak: Float, warmup: Int)
    /// Linear warm-up, then linear decay to 0 at `total` (BERT4Rec).
    case warmupLinearDecay(peak: Float, warmup: Int, total: Int)
    /// Linear warm-up, then cosine decay to 0 at `total`.
    case warmupCosine(peak: Float, warmup: Int, total: Int)

    public func rate(step: Int) -> Float {
        switch self {
        case .constant(let lr): return lr
        case .warmup(let peak, let warmup):
            return step < warmup ? peak * Float(step) / Float(warmup) : peak
        case .warmupLinearDecay(let peak, let warmup, let total):
            if step < warmup { return peak * Float(step) / Float(warmup) }
            return peak * max(0, 1 - Float(step) / Float(total))
        case .warmupCosine(let peak, let warmup, let total):
            if step < warmup { return peak * Float(step) / Float(warmup) }
            let progress = min(1, Float(step - warmup) / Float(max(total - warmup, 1)))
            return peak * 0.5 * (1 + cosf(.pi * progress))
        }
    }
}
