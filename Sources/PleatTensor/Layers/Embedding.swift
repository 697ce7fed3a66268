/// A lookup table: y[t] = E[id_t]·scale, with the sparse scatter-add gradient dE[id_t] += scale·dy[t].
public struct Embedding {
    public let table: Parameter
    /// Rows with this id read as zeros and get no gradient (padding), when set.
    public let paddingId: Int32?
    public var rows: Int { table.shape[0] }
    public var dimension: Int { table.shape[1] }

    public init(_ store: ParameterStore, _ name: String, rows: Int, dimension: Int, paddingId: Int32? = nil) {
        table = store.make("\(name).weight", shape: [rows, dimension])
        self.paddingId = paddingId
    }

    public func forward(_ ids: UnsafeBufferPointer<Int32>, scale: Float = 1, into y: Tensor) {
        let d = dimension, e = table.value.pointer
        Parallel.forRows(ids.count) { range in
            for t in range {
                let out = y.pointer + t * d
                let id = ids[t]
                if id == paddingId { out.update(repeating: 0, count: d); continue }
                let row = e + Int(id) * d
                for i in 0..<d { out[i] = row[i] * scale }
            }
        }
    }

    /// Accumulates in token order, so repeated ids sum deterministically.
    public func backward(_ ids: UnsafeBufferPointer<Int32>, scale: Float = 1, _ dy: Tensor) {
        let d = dimension, g = table.grad.pointer
        for t in 0..<ids.count where ids[t] != paddingId {
            let row = g + Int(ids[t]) * d, dyt = dy.pointer + t * d
            for i in 0..<d { row[i] += scale * dyt[i] }
        }
    }
}
