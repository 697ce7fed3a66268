import PleatCore
import PleatTensor

/// The encoders' input stage: x = Drop(Norm(E[id]·c + P[position] + B[behaviour] + V[value bucket])), with
/// c = √d or 1 and Norm a LayerNorm or nothing, depending on the model. Id 0 is padding and reads as
/// zeros; B and V, the behaviour and value embeddings, exist only in models built with behaviour types or
/// value buckets, and their row 0 (none known) reads as zeros too, so an event without them is its item
/// and position alone.
final class InputEmbedding {
    let items: Embedding
    let positions: Embedding
    let behaviours: Embedding?, values: Embedding?
    /// Each input row's behaviour and value bucket for the next passes; read by `forward` and `backward`
    /// only for the tables the model has.
    var fields = InputFields()
    let norm: LayerNorm?
    let dropout: Dropout
    let scale: Float
    let summed: Tensor, xhat: Tensor, rstd: Tensor, mask: Tensor, scratch: Tensor
    var ids: [Int32] = []
    /// The position embedding's row for each input row: its place counted from the oldest kept event
    /// (row r of the batch is position r mod `length`), or, with `countsFromNewest`, from the newest one
    /// (the last real event of every sequence is 0, as in left-padded layouts).
    private(set) var positionIds: [Int32]
    private(set) var length: Int
    let countsFromNewest: Bool

    /// `sharedItems`: an item table owned by another encoder of the same model (fold encoders read the
    /// main encoder's table); `namePrefix` keeps the parameter names of several encoders apart.
    /// `behaviourTypes`: behaviour ids 1…behaviourTypes have a learned row (0: no behaviour embedding).
    init(_ store: ParameterStore, items count: Int, dimension d: Int, maxLength: Int, rows: Int,
         layerNormEpsilon: Float?, scaleBySqrtDimension: Bool, dropout: Float, countsFromNewest: Bool = false,
         behaviourTypes: Int = 0, valueBuckets: Int = 0, sharedItems: Embedding? = nil, namePrefix: String = "") {
        items = sharedItems ?? Embedding(store, namePrefix + "item_emb", rows: count + 1, dimension: d, paddingId: 0)
        positions = Embedding(store, namePrefix + "pos_emb", rows: maxLength, dimension: d)
        behaviours = behaviourTypes > 0 ? Embedding(store, namePrefix + "behaviour_emb", rows: behaviourTypes + 1, dimension: d, paddingId: 0) : nil
        values = valueBuckets > 0 ? Embedding(store, namePrefix + "value_emb", rows: valueBuckets + 1, dimension: d, paddingId: 0) : nil
        norm = layerNormEpsilon.map { LayerNorm(store, namePrefix + "emb_ln", features: d, epsilon: $0) }
        self.dropout = Dropout(dropout)
        scale = scaleBySqrtDimension ? Float(d).squareRoot() : 1
        (summed, xhat, mask, scratch) = (Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]))
        rstd = Tensor([rows])
        positionIds = (0..<rows).map { Int32($0 % maxLength) }
        length = maxLength
        self.countsFromNewest = countsFromNewest
    }

    /// Positions per sequence in the next passes: the batch's rows are `rows(n)`.
    func setLength(_ n: Int, rows: Int) {
        guard n != length || rows != summed.rows else { return }
        length = n
        for t in [summed, xhat, rstd, mask, scratch] { t.setRows(rows) }
        positionIds = (0..<rows).map { Int32($0 % n) }
    }

    /// `lengths[b]`: real positions of row b, needed when positions count from the newest event (nil:
    /// up to the row's first padding id).
    func forward(_ ids: [Int32], lengths: [Int32]? = nil, into x: Tensor, rng: inout RandomSource?) {
        self.ids = ids
        if countsFromNewest { numberFromNewest(ids, lengths: lengths) }
        ids.withUnsafeBufferPointer { items.forward($0, scale: scale, into: summed) }
        positionIds.withUnsafeBufferPointer { positions.forward($0, into: scratch) }
        Tensor.add(summed, scratch, into: summed)
        addField(behaviours, fields.behaviours, rows: ids.count)
        addField(values, fields.values, rows: ids.count)
        if let norm { norm.forward(summed, into: x, normalized: xhat, rstd: rstd) } else { x.copy(from: summed) }
        dropout.forward(x, into: x, mask: mask, rng: &rng)
    }

    /// Adds `table`'s rows for `fieldIds` to `summed` (nothing for a table the model lacks or ids not given).
    private func addField(_ table: Embedding?, _ fieldIds: [Int32]?, rows: Int) {
        guard let table, let fieldIds else { return }
        precondition(fieldIds.count == rows, "expected an id per input row")
        fieldIds.withUnsafeBufferPointer { table.forward($0, into: scratch) }
        Tensor.add(summed, scratch, into: summed)
    }

    /// Scatters ∂L/∂summed (in `scratch`) into `table`'s rows for `fieldIds`.
    private func backwardField(_ table: Embedding?, _ fieldIds: [Int32]?) {
        guard let table, let fieldIds else { return }
        fieldIds.withUnsafeBufferPointer { table.backward($0, scratch) }
    }

    /// Position L − 1 − i for the i-th of a row's L real positions; padding positions read row 0 (their
    /// outputs are never used nor attended to, so they get no gradient).
    private func numberFromNewest(_ ids: [Int32], lengths: [Int32]?) {
        let n = length
        for b in 0..<(ids.count / n) {
            let row = b * n
            let real = PaddedRows.realLength(ofRow: b, width: n, ids: ids, lengths: lengths)
            for i in 0..<n { positionIds[row + i] = i < real ? Int32(real - 1 - i) : 0 }
        }
    }

    /// Consumes ∂L/∂x (overwritten on the way).
    func backward(_ dx: Tensor) {
        dropout.backward(dx, mask: mask, dx: dx)
        if let norm { norm.backward(dx, normalized: xhat, rstd: rstd, dx: scratch) } else { scratch.copy(from: dx) }
        ids.withUnsafeBufferPointer { items.backward($0, scale: scale, scratch) }
        positionIds.withUnsafeBufferPointer { positions.backward($0, scratch) }
        backwardField(behaviours, fields.behaviours)
        backwardField(values, fields.values)
    }
}
