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

    /// y = x Wᵀ + b for x: rows × inputs, y: rows × outputs. Rows are split over the cores.
    public func forward(_ x: Tensor, into y: Tensor) {
        let rows = x.rows, w = weight.value.pointer, (n, k) = (outputs, inputs)
        precondition(x.columns == inputs && y.count == rows * outputs, "Linear \(inputs)→\(outputs): x \(x.shape), y \(y.shape)")
        Parallel.forRows(rows, minimumPerWorker: 256) { r in
            Gemm.multiply(x.pointer + r.lowerBound * k, w, transposeB: true, into: y.pointer + r.lowerBound * n, m: r.count, n: n, k: k)
        }
        if let bias { Rows.addBias(bias.value.pointer, to: y.pointer, rows: rows, columns: outputs) }
    }

    /// dW += dyᵀ x (output rows of W split over the cores);  db += Σ_rows dy;  dx = dy W (overwritten,
    /// when asked for; rows split over the cores).
    public func backward(_ x: Tensor, _ dy: Tensor, dx: Tensor?) {
        let rows = x.rows, (n, k) = (outputs, inputs)
        let g = weight.grad.pointer, w = weight.value.pointer
        Parallel.forRows(n, minimumPerWorker: 8) { o in
            Gemm.multiply(dy.pointer + o.lowerBound, transposeA: true, x.pointer, into: g + o.lowerBound * k,
                          m: o.count, n: k, k: rows, beta: 1, lda: n)
        }
        if let bias { Rows.accumulateColumnSums(dy.pointer, rows: rows, columns: outputs, into: bias.grad.pointer) }
        if let dx {
            Parallel.forRows(rows, minimumPerWorker: 256) { r in
                Gemm.multiply(dy.pointer + r.lowerBound * n, w, into: dx.pointer + r.lowerBound * k, m: r.count, n: k, k: n)
            }
        }
    }
}
