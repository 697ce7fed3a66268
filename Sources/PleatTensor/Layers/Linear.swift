/// y = x Wᵀ + b, with W stored as output × input (PyTorch's layout, so checkpoints read the same).
public struct Linear {
    public let weight: Parameter
    public let bias: Parameter?
    public var inputs: Int { weight.shape[1] }
    public var outputs: Int { weight.shape[0] }

    public init(_ store: ParameterStore, _ name: String, inputs: Int, outputs: Int, bias: Bool = true) {
        weight = store.make("\(name).weight", shape: [outputs, inputs])
        self.bias = bias ? store.make("\(name).bias", shape: [outputs], decays: false) : nil
    }

    /// y = x Wᵀ + b for x: rows × inputs, y: rows × outputs.
    public func forward(_ x: Tensor, into y: Tensor) {
        let rows = x.rows
        precondition(x.columns == inputs && y.count == rows * outputs, "Linear \(inputs)→\(outputs): x \(x.shape), y \(y.shape)")
        Gemm.multiply(x.pointer, weight.value.pointer, transposeB: true, into: y.pointer, m: rows, n: outputs, k: inputs)
        if let bias { Rows.addBias(bias.value.pointer, to: y.pointer, rows: rows, columns: outputs) }
    }

    /// dW += dyᵀ x;  db += Σ_rows dy;  dx = dy W (overwritten, when asked for).
    public func backward(_ x: Tensor, _ dy: Tensor, dx: Tensor?) {
        let rows = x.rows
        Gemm.multiply(dy.pointer, transposeA: true, x.pointer, into: weight.grad.pointer,
                      m: outputs, n: inputs, k: rows, beta: 1)
        if let bias { Rows.accumulateColumnSums(dy.pointer, rows: rows, columns: outputs, into: bias.grad.pointer) }
        if let dx {
            Gemm.multiply(dy.pointer, weight.value.pointer, into: dx.pointer, m: rows, n: inputs, k: outputs)
        }
    }
}
