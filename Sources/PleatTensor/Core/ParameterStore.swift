import PleatCore

/// Owns a model's parameters in registration order: creation, initialisation, gradient reset and norms.
/// Optimisers and checkpoints walk it, so every parameter is saved and updated exactly once.
public final class ParameterStore {
    public private(set) var parameters: [Parameter] = []
    private var byName: [String: Parameter] = [:]

    public init() {}

    /// Registers a new parameter; names are unique (they are the checkpoint keys).
    public func make(_ name: String, shape: [Int], decays: Bool = true) -> Parameter {
        precondition(byName[name] == nil, "parameter \(name) registered twice")
        let parameter = Parameter(name, shape: shape, decays: decays)
        parameters.append(parameter)
        byName[name] = parameter
        return parameter
    }

    public subscript(name: String) -> Parameter? { byName[name] }

    public var scalarCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    public func zeroGrad() { for p in parameters { p.grad.zero() } }

    /// Sets every parameter's values to those of the same name in `other` (a store of the same model
    /// built again: its initial weights).
    public func copyValues(from other: ParameterStore) {
        precondition(other.parameters.map(\.name) == parameters.map(\.name), "stores of different models")
        for (p, q) in zip(parameters, other.parameters) { p.value.copy(from: q.value) }
    }

    /// Each value becomes `keeping` × itself + (1 − `keeping`) × the same value of `other` (a store of
    /// the same model): a warm start pulled part of the way back to a fresh initialisation.
    public func interpolate(towards other: ParameterStore, keeping: Float) {
        precondition(other.parameters.map(\.name) == parameters.map(\.name), "stores of different models")
        for (p, q) in zip(parameters, other.parameters) {
            precondition(p.value.count == q.value.count, "\(p.name): stores of different shapes")
            let (value, start) = (p.value.pointer, q.value.pointer)
            for i in 0..<p.value.count { value[i] = keeping * value[i] + (1 - keeping) * start[i] }
        }
    }

    /// √(Σ g²) over every gradient, accumulated in Double.
    public func gradientNorm() -> Double {
        var sum = 0.0
        for p in parameters {
            let g = p.grad.pointer
            for i in 0..<p.grad.count { sum += Double(g[i]) * Double(g[i]) }
        }
        return sum.squareRoot()
    }

    /// Scales all gradients so that their global norm is at most `maxNorm`; returns the norm before.
    @discardableResult
    public func clipGradients(maxNorm: Double) -> Double {
        let norm = gradientNorm()
        if norm > maxNorm {
            scaleGradients(by: Float(maxNorm / (norm + 1e-6)))
        }
        return norm
    }

    /// Multiplies every gradient by `factor`.
    public func scaleGradients(by factor: Float) {
        for p in parameters { VectorMath.scale(p.grad.pointer, count: p.grad.count, by: factor) }
    }
}
