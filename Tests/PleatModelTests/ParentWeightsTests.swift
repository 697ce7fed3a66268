import Foundation
import XCTest
import PleatCore
import PleatTensor
import PleatTestSupport
@testable import PleatModel

/// A warm start's first weights (`ParentWeights`): the parent's, with its vocabulary extended.
final class ParentWeightsTests: XCTestCase {
    private func spec(_ kind: ModelKind) -> ModelSpec {
        var spec = ModelSpec(kind: kind, maxLength: 6)
        (spec.sasrec.encoder.dimension, spec.sasrec.encoder.heads, spec.sasrec.encoder.blocks) = (8, 1, 1)
        (spec.bert4rec.encoder.dimension, spec.bert4rec.encoder.heads, spec.bert4rec.encoder.blocks) = (8, 1, 1)
        (spec.hstu.encoder.dimension, spec.hstu.encoder.heads, spec.hstu.encoder.blocks) = (8, 1, 1)
        return spec
    }

    /// A parent of `items` items with random weights, written as an artifact in `directory`.
    private func parent(_ kind: ModelKind, items: Int, in directory: URL) throws -> ModelArtifact {
        let model = spec(kind).makeModel(batchSize: 1, seed: 3, items: items, foldKeys: nil)
        var rng = RandomSource(seed: 11)
        for p in model.store.parameters { for i in 0..<p.value.count { p.value[i] = Float(rng.normal()) } }
        try Checkpoint.save(model.store, optimizer: nil, to: directory)
        let ids = (0...items).map(Int32.init)
        try ModelArtifact.write(modelId: "\(kind.rawValue)-parent", spec: spec(kind),
                                vocabulary: ArtifactVocabulary(snapshotBatch: 1, databaseIds: ids, externalIds: ids.map { "i\($0)" }, counts: nil),
                                foldKeys: nil, to: directory)
        return try ModelArtifact.load(from: directory)
    }

    /// Old items keep their rows bit for bit, every other parameter its values, rows after the items
    /// ([MASK]) move up; a new item with a category starts at its category's mean, one without keeps the
    /// new model's own initial row.
    func testOldRowsAreKeptBitForBitAndNewOnesStartFromTheirCategory() throws {
        for kind in ModelKind.allCases {
            let directory = try TestDatabase.scratchDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let artifact = try parent(kind, items: 20, in: directory)
            let old = try artifact.makeModel(batchSize: 1).store
            let model = spec(kind).makeModel(batchSize: 1, seed: 5, items: 23, foldKeys: nil)
            let fresh = spec(kind).makeModel(batchSize: 1, seed: 5, items: 23, foldKeys: nil).store
            let weights = try ParentWeights(artifact, model: model.store, items: 23)
            weights.copy(into: model.store, categoryRows: [21: [2, 4], 23: [7]])

            XCTAssertEqual(Set(weights.itemTables), kind == .bert4rec ? ["item_emb.weight", "head.bias"] : ["item_emb.weight"], "\(kind)")
            for p in model.store.parameters {
                let q = try XCTUnwrap(old[p.name]), width = p.shape.dropFirst().reduce(1, *)
                guard weights.itemTables.contains(p.name) else {
                    XCTAssertEqual(p.value.array, q.value.array, "\(kind) \(p.name)")
                    continue
                }
                func row(_ t: Tensor, _ r: Int) -> [Float] { Array(t.array[(r * width)..<((r + 1) * width)]) }
                for r in 0...20 { XCTAssertEqual(row(p.value, r), row(q.value, r), "\(kind) \(p.name) row \(r)") }
                XCTAssertEqual(row(p.value, 21), zip(row(q.value, 2), row(q.value, 4)).map { Float((Double($0) + Double($1)) / 2) }, "\(kind) \(p.name)")
                XCTAssertEqual(row(p.value, 22), row(fresh[p.name]!.value, 22), "\(kind) \(p.name): no category, a cold start's row")
                XCTAssertEqual(row(p.value, 23), row(q.value, 7), "\(kind) \(p.name)")
                if kind == .bert4rec {
                    XCTAssertEqual(row(p.value, 24), row(q.value, 21), "\(kind) \(p.name): [MASK] moves after the new items")
                }
            }
        }
    }

    /// The parent's optimiser state (kept beside its weights) continues in the extended model: the step,
    /// old rows' moments bit for bit, new rows' moments zero as at a cold start, [MASK]'s moved; a parent
    /// without one leaves the optimiser fresh.
    func testTheParentsOptimiserStateContinuesWithNewRowsAtZero() throws {
        for kind in [ModelKind.sasrec, .bert4rec] {
            let directory = try TestDatabase.scratchDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let artifact = try parent(kind, items: 20, in: directory)
            let model = spec(kind).makeModel(batchSize: 1, seed: 5, items: 22, foldKeys: nil)
            let weights = try ParentWeights(artifact, model: model.store, items: 22)
            let optimizer = Adam(model.store)
            XCTAssertFalse(try weights.copyOptimizer(from: artifact, into: optimizer), "no optimiser state kept")
            XCTAssertEqual(optimizer.step, 0)

            // The parent's optimiser after some steps of random gradients, saved as training keeps it.
            let old = try artifact.makeModel(batchSize: 1).store
            let parentOptimizer = Adam(old)
            var rng = RandomSource(seed: 17)
            for _ in 0..<3 {
                for p in old.parameters { for i in 0..<p.grad.count { p.grad[i] = Float(rng.normal()) } }
                parentOptimizer.update(lr: 1e-3)
            }
            let saved = try TestDatabase.scratchDirectory()
            defer { try? FileManager.default.removeItem(at: saved) }
            try Checkpoint.save(old, optimizer: parentOptimizer, to: saved)
            try FileManager.default.copyItem(at: saved.appendingPathComponent(ModelArtifact.optimizerFile),
                                             to: directory.appendingPathComponent(ModelArtifact.optimizerFile))

            XCTAssertTrue(try weights.copyOptimizer(from: artifact, into: optimizer))
            XCTAssertEqual(optimizer.step, 3)
            for p in model.store.parameters {
                let here = try XCTUnwrap(optimizer.moments(of: p.name)), there = try XCTUnwrap(parentOptimizer.moments(of: p.name))
                guard weights.itemTables.contains(p.name) else {
                    XCTAssertEqual(here.first.array, there.first.array, "\(kind) \(p.name)")
                    XCTAssertEqual(here.second.array, there.second.array, "\(kind) \(p.name)")
                    continue
                }
                let width = p.shape.dropFirst().reduce(1, *)
                func rows(_ t: Tensor, _ r: ClosedRange<Int>) -> [Float] { Array(t.array[(r.lowerBound * width)..<((r.upperBound + 1) * width)]) }
                XCTAssertEqual(rows(here.second, 0...20), rows(there.second, 0...20), "\(kind) \(p.name)")
                XCTAssertEqual(rows(here.first, 0...20), rows(there.first, 0...20), "\(kind) \(p.name)")
                XCTAssertEqual(rows(here.first, 21...22), [Float](repeating: 0, count: 2 * width), "\(kind) \(p.name): new rows")
                XCTAssertEqual(rows(here.second, 21...22), [Float](repeating: 0, count: 2 * width), "\(kind) \(p.name): new rows")
                if kind == .bert4rec {
                    XCTAssertEqual(rows(here.second, 23...23), rows(there.second, 21...21), "\(kind) \(p.name): [MASK] moves")
                }
            }
        }
    }

    /// A parent of another shape (here another width) is refused with the parameter named, not mixed in.
    func testAParentOfAnotherShapeIsRefused() throws {
        let directory = try TestDatabase.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let artifact = try parent(.sasrec, items: 20, in: directory)
        var wider = spec(.sasrec)
        (wider.sasrec.encoder.dimension, wider.sasrec.encoder.heads) = (16, 1)
        let model = wider.makeModel(batchSize: 1, seed: 5, items: 22, foldKeys: nil)
        XCTAssertThrowsError(try ParentWeights(artifact, model: model.store, items: 22)) { error in
            XCTAssertTrue("\(error)".contains("its spec differs"), "\(error)")
        }
    }
}
