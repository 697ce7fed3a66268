import Foundation
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
        for p in model.parameters {
            guard let q = parent[p.name] else { continue }
            copy(q.value, into: p.value, name: p.name)
        }
        setMeans(model, categoryRows)
    }

    /// Sets `optimizer` (of a model of the extended vocabulary) to the parent's optimiser state, saved
    /// beside its weights (`optimizerFile`): its step and moments, a new item's rows at zero moments as at
    /// a cold start. Returns false, changing nothing, when the parent has no optimiser state (a model
    /// imported, or trained before it was kept).
    public func copyOptimizer(from artifact: ModelArtifact, into optimizer: Adam) throws -> Bool {
        let file = artifact.directory.appendingPathComponent(ModelArtifact.optimizerFile)
        guard FileManager.default.fileExists(atPath: file.path) else { return false }
        let parentOptimizer = Adam(parent)
        try Checkpoint.load(parent, optimizer: parentOptimizer, from: artifact.directory)
        for q in parent.parameters {
            guard let from = parentOptimizer.moments(of: q.name), let to = optimizer.moments(of: q.name) else { continue }
            to.first.zero()
            to.second.zero()
            copy(from.first, into: to.first, name: q.name)
            copy(from.second, into: to.second, name: q.name)
        }
        optimizer.resume(atStep: parentOptimizer.step)
        return true
    }

    /// Copies one of the parent's tensors into the same parameter's tensor here: as it is, or for an item
    /// table row by row, the rows after the items moved up by the new items (new rows left as they are).
    private func copy(_ from: Tensor, into to: Tensor, name: String) {
        guard itemTables.contains(name) else { to.copy(from: from); return }
        let itemRows = parentItems + 1, added = items - parentItems
        let width = to.shape.dropFirst().reduce(1, *), target = to.pointer, source = from.pointer
        target.update(from: source, count: itemRows * width)
        let after = from.shape[0] - itemRows  // rows after the items, e.g. [MASK]
        (target + (itemRows + added) * width).update(from: source + itemRows * width, count: after * width)
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
