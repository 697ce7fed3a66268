import CPleatKernels
import Foundation

/// Adam and AdamW (PyTorch's formulas, model-spec §5.6), at step t:
///   m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  m̂ = m/(1−β1ᵗ);  v̂ = v/(1−β2ᵗ)
///   AdamW: θ ← θ(1 − lr·wd), then θ ← θ − lr·m̂/(√v̂ + ε).   Adam: g ← g + wd·θ first.
/// Weight decay skips parameters marked `decays: false` (biases, LayerNorm). Parameters listed in
/// `lazyRows` (item tables) update only the rows that received a gradient this step, leaving the
/// moments of the other rows untouched.
public final class Adam {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float = 0
    public var decoupled = true
    public var lazyRows: Set<String> = []

    /// Updates applied so far (restored from a checkpoint on resume).
    public internal(set) var step = 0
    let store: ParameterStore
    var first: [Tensor]
    var second: [Tensor]

    public init(_ store: ParameterStore) {
        self.store = store
        first = store.parameters.map { Tensor($0.shape) }
        second = store.parameters.map { Tensor($0.shape) }
    }

    /// The first and second moments of the parameter called `name` (nil: the store has none).
    public func moments(of name: String) -> (first: Tensor, second: Tensor)? {
        store.parameters.firstIndex { $0.name == name }.map { (first[$0], second[$0]) }
    }

    /// Continues another run's optimiser: its step count, with moments set through `moments(of:)`.
    public func resume(atStep step: Int) {
        precondition(step >= 0)
        self.step = step
    }

    /// Forgets every update: zero moments, step 0 (training again from initial weights).
    public func reset() {
        step = 0
        for t in first + second { t.zero() }
    }

    /// Applies one update with learning rate `lr` from the current gradients.
    public func update(lr: Float) {
        step += 1
        let c1 = 1 - powf(beta1, Float(step)), c2 = 1 - powf(beta2, Float(step))
        for (index, p) in store.parameters.enumerated() {
            let wd = p.decays ? weightDecay : 0
            let m = first[index].pointer, v = second[index].pointer
            let theta = p.value.pointer, g = p.grad.pointer
            let width = p.value.columns
            let lazy = lazyRows.contains(p.name)
            Parallel.forRows(p.value.count / width, minimumPerWorker: 256) { rows in
                for r in rows {
                    let start = r * width
                    if lazy, !(start..<(start + width)).contains(where: { g[$0] != 0 }) { continue }
                    let row = Row(theta: theta + start, gradient: g + start, first: m + start, second: v + start, count: width)
                    if VectorMath.width == 16 {
                        pleat512_adam_row(row.theta, row.gradient, row.first, row.second, Int32(width), beta1, beta2, lr, wd,
                                          decoupled ? 1 : 0, c1, c2, epsilon)
                    } else {
                        step(row, lr: lr, wd: wd, c1: c1, c2: c2)
                    }
                }
            }
        }
    }

    /// One row of parameters with its gradient and moments.
    struct Row {
        let theta: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>
        let first: UnsafeMutablePointer<Float>, second: UnsafeMutablePointer<Float>
        let count: Int
    }

    /// The update of one row, a loop the compiler vectorises 8 lanes wide; `pleat512_adam_row` is the same
    /// arithmetic 16 wide (every operation is correctly rounded, so the two agree bit for bit).
    func step(_ row: Row, lr: Float, wd: Float, c1: Float, c2: Float) {
        let (theta, g, m, v) = (row.theta, row.gradient, row.first, row.second)
        for i in 0..<row.count {
            var grad = g[i]
            if !decoupled { grad += wd * theta[i] }
            m[i] = beta1 * m[i] + (1 - beta1) * grad
            v[i] = beta2 * v[i] + (1 - beta2) * grad * grad
            if decoupled { theta[i] *= 1 - lr * wd }
            theta[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
        }
    }
}
