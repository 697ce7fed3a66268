import PleatCore

/// Dropout over a whole parameter for one step: the parameter's values are replaced by a dropped-out
/// copy (`apply`) that every reader of the step sees, and put back afterwards (`restore`), when the
/// gradient gathered against the dropped copy is multiplied by the same mask. This is how RecTools'
/// SASRec (behind the published Amazon figures) regularises its item table: one mask per step, read by
/// the input lookup and by the scores of the loss alike.
public final class ParameterDropout {
    public let dropout: Dropout
    private let saved: Tensor, mask: Tensor
    private var applied = false

    public init(_ probability: Float, shape: [Int]) {
        dropout = Dropout(probability)
        (saved, mask) = (Tensor(shape), Tensor(shape))
    }

    /// Dropout over `parameter` at `probability`, or nil when that is 0: off, and no copy of the
    /// parameter is allocated.
    public static func over(_ parameter: Parameter, probability: Float) -> ParameterDropout? {
        probability > 0 ? ParameterDropout(probability, shape: parameter.shape) : nil
    }

    /// Replaces `parameter`'s values by value ⊙ m/(1 − p), m drawn from `rng` (nil: no change).
    public func apply(_ parameter: Parameter, rng: inout RandomSource?) {
        guard rng != nil, dropout.probability > 0 else { return }
        saved.copy(from: parameter.value)
        dropout.forward(parameter.value, into: parameter.value, mask: mask, rng: &rng)
        applied = true
    }

    /// Puts the values back and carries the step's gradient through the mask. The parameter's gradient
    /// must hold only what this step added since `apply`.
    public func restore(_ parameter: Parameter) {
        guard applied else { return }
        parameter.value.copy(from: saved)
        dropout.backward(parameter.grad, mask: mask, dx: parameter.grad)
        applied = false
    }
}
