/// A trainable tensor with its gradient (accumulated by backward passes, cleared by `zeroGrad`).
public final class Parameter {
    public let name: String
    public let value: Tensor
    public let grad: Tensor
    /// Excluded from weight decay (LayerNorm gains, biases), as in the reference implementations.
    public let decays: Bool

    public init(_ name: String, shape: [Int], decays: Bool = true) {
        self.name = name
        value = Tensor(shape)
        grad = Tensor(shape)
        self.decays = decays
    }

    public var shape: [Int] { value.shape }
}
