extension Tensor {
    /// c = a + b element-wise, over the cores (c may be a or b): residual connections and summed inputs.
    public static func add(_ a: Tensor, _ b: Tensor, into c: Tensor) {
        precondition(a.count == b.count && b.count == c.count, "add of \(a.shape) and \(b.shape) into \(c.shape)")
        let (ap, bp, cp) = (a.pointer, b.pointer, c.pointer)
        Parallel.forRows(a.count, minimumPerWorker: 16_384) { range in
            for i in range { cp[i] = ap[i] + bp[i] }
        }
    }
}
