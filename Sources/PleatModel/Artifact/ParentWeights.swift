import PleatTensor

/// A warm start's first weights: a parent model's weights in a model whose vocabulary extends the
/// parent's, its items first in the parent's order, then the new ones (`ArtifactVocabulary.extended`).
///
/// Every parameter keeps the parent's values. The item tables (every parameter with a row per item: the
/// item embedding, a per-item bias) are found as the parameters whose first dimension is larger by
/// exactly the number of new items; their old rows are copied bit for bit, rows after the items
/// (BERT4Rec's [MASK]) move up by the new items, and each new item's row is the mean of its category's
/// rows, or stays as the new model initialised it (as at a cold start) when it has no such category.
public struct ParentWeights {
    /// Names of the parameters with a row per item.
    public let itemTables: [String]
    public let parentItems: Int, items: Int
    private let parent: ParameterStore
    private let parentId: String

    /// Reads `artifact`'s weights and matches them to `model`'s parameters (a model of the same spec with
    /// `items` ≥ the parent's): same names, and the same shapes but for the item tables' rows.
    public init(_ artifact: ModelArtifact, model: ParameterStore, items: Int) throws {
        (parentItems, self.items, parentId) = (artifact.header.items, items, artifact.modelId)
        let added = items - parentItems
        precondition(added >= 0, "a warm start's vocabulary extends its parent's")
        parent = try artifact.makeModel(batchSize: 1).store
        var itemTables: [String] = []
        for p in model.parameters {
            guard let q = parent[p.name] else {
                throw ArtifactError("warm start from \(artifact.modelId): the parent has no parameter \(p.name) (its spec differs)")
            }
            guard p.shape != q.shape else { continue }
            guard p.shape.count == q.shape.count, p.shape[0] == q.shape[0] + added, p.shape.dropFirst() == q.shape.dropFirst() else {
                throw ArtifactError("warm start from \(artifact.modelId): \(p.name) is \(q.shape) in the parent and \(p.shape) here (its spec differs)")
            }
            itemTables.append(p.name)
        }
        self.itemTables = itemTables
    }

    /// Sets `model` to the parent's weights; `categoryRows[i]` lists the old model indices whose mean
    /// is new item i's first row.
    public func copy(into model: ParameterStore, categoryRows: [Int32: [Int32]]) {
        let itemRows = parentItems + 1, added = items - parentItems
        for p in model.parameters {
            guard let q = parent[p.name] else { continue }
            guard itemTables.contains(p.name) else { p.value.copy(from: q.value); continue }
            let width = p.shape.dropFirst().reduce(1, *), to = p.value.pointer, from = q.value.pointer
            to.update(from: from, count: itemRows * width)
            let after = q.shape[0] - itemRows  // rows after the items, e.g. [MASK]
            (to + (itemRows + added) * width).update(from: from + itemRows * width, count: after * width)
        }
        setMeans(model, categoryRows)
    }

    /// Sets each target index's row of every item table to the mean of the source indices' rows
    /// (targets without sources keep theirs).
    public func setMeans(_ model: ParameterStore, _ rows: [Int32: [Int32]]) {
        for name in itemTables {
            guard let p = model[name] else { continue }
            let width = p.shape.dropFirst().reduce(1, *), values = p.value.pointer
            for (target, sources) in rows.sorted(by: { $0.key < $1.key }) where !sources.isEmpty {
                precondition(Int(target) <= items && sources.allSatisfy { Int($0) <= items && $0 != target })
                var mean = [Double](repeating: 0, count: width)
                for s in sources { for j in 0..<width { mean[j] += Double(values[Int(s) * width + j]) } }
                for j in 0..<width { values[Int(target) * width + j] = Float(mean[j] / Double(sources.count)) }
            }
        }
    }
}
