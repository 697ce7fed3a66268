import Foundation
import XCTest
import PleatCore
@testable import PleatTensor
import PleatTestSupport

/// A 2-layer pre-LN causal transformer over item ids, assembled from the engine's layers, with its
/// backward pass written out in reverse order: the smallest model that exercises everything together.
final class TinyModel {
    let batch = 16, length = 8, items = 12
    let store: ParameterStore
    let embedding: Embedding, positions: Embedding, finalNorm: LayerNorm
    let blocks: [Block]
    let loss = SoftmaxCrossEntropy(rowBlock: 32)
    // Activations and gradients, allocated once.
    let x0: Tensor, hidden: Tensor, dHidden: Tensor, dx: Tensor, finalXhat: Tensor, finalRstd: Tensor
    var positionIds: [Int32]

    final class Block {
        let ln1: LayerNorm, qkv: Linear, out: Linear, ln2: LayerNorm, up: Linear, down: Linear
        let attention: SoftmaxAttention, cache: SoftmaxAttention.Cache
        let input: Tensor, h1: Tensor, xhat1: Tensor, r1: Tensor, qkvOut: Tensor, att: Tensor, mid: Tensor
        let h2: Tensor, xhat2: Tensor, r2: Tensor, f1: Tensor, g: Tensor
        let dqkv: Tensor, datt: Tensor, dh: Tensor, dg: Tensor, df1: Tensor, dtmp: Tensor

        init(_ s: ParameterStore, _ name: String, rows: Int, d: Int, heads: Int, batch: Int, length: Int) {
            ln1 = LayerNorm(s, "\(name).ln1", features: d, epsilon: 1e-5)
            qkv = Linear(s, "\(name).qkv", inputs: d, outputs: 3 * d)
            out = Linear(s, "\(name).out", inputs: d, outputs: d)
            ln2 = LayerNorm(s, "\(name).ln2", features: d, epsilon: 1e-5)
            up = Linear(s, "\(name).up", inputs: d, outputs: 4 * d)
            down = Linear(s, "\(name).down", inputs: 4 * d, outputs: d)
            attention = SoftmaxAttention(heads: heads, headDim: d / heads, causal: true)
            cache = .init(batch: batch, length: length, heads: heads, dropout: 0)
            (input, h1, xhat1, att, mid, h2, xhat2, datt, dh, dtmp) = (Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]))
            (r1, r2) = (Tensor([rows]), Tensor([rows]))
            (qkvOut, dqkv) = (Tensor([rows, 3 * d]), Tensor([rows, 3 * d]))
            (f1, g, dg, df1) = (Tensor([rows, 4 * d]), Tensor([rows, 4 * d]), Tensor([rows, 4 * d]), Tensor([rows, 4 * d]))
        }

        /// x ← x + Out(Attn(LN1 x));  x ← x + Down(GELU(Up(LN2 x))).
        func forward(_ x: Tensor) {
            input.copy(from: x)
            ln1.forward(x, into: h1, normalized: xhat1, rstd: r1)
            qkv.forward(h1, into: qkvOut)
            var noDropout: RandomSource? = nil
            let all = StridedRows(qkvOut), width = out.inputs
            attention.forward(q: all, k: all.offset(columns: width), v: all.offset(columns: 2 * width), keyValid: nil,
                              out: StridedRows(att), cache: cache, rng: &noDropout)
            out.forward(att, into: dtmp)
            for i in 0..<x.count { x[i] += dtmp[i] }
            mid.copy(from: x)
            ln2.forward(x, into: h2, normalized: xhat2, rstd: r2)
            up.forward(h2, into: f1)
            Activation.gelu.forward(f1, into: g)
            down.forward(g, into: dtmp)
            for i in 0..<x.count { x[i] += dtmp[i] }
        }

        /// dx holds ∂L/∂output on entry and ∂L/∂input on return.
        func backward(_ dx: Tensor) {
            down.backward(g, dx, dx: dg)
            Activation.gelu.backward(f1, dg, dx: df1)
            up.backward(h2, df1, dx: dh)
            ln2.backward(dh, normalized: xhat2, rstd: r2, dx: dtmp)
            for i in 0..<dx.count { dx[i] += dtmp[i] }
            out.backward(att, dx, dx: datt)
            let all = StridedRows(qkvOut), grads = StridedRows(dqkv), width = out.inputs
            attention.backward(q: all, k: all.offset(columns: width), v: all.offset(columns: 2 * width), dOut: StridedRows(datt),
                               cache: cache, dq: grads, dk: grads.offset(columns: width), dv: grads.offset(columns: 2 * width))
            qkv.backward(h1, dqkv, dx: dh)
            ln1.backward(dh, normalized: xhat1, rstd: r1, dx: dtmp)
            for i in 0..<dx.count { dx[i] += dtmp[i] }
        }
    }

    init(seed: UInt64) {
        let (batch, length, d, heads, items, store) = (16, 8, 16, 2, 12, ParameterStore())
        let rows = batch * length
        self.store = store
        embedding = Embedding(store, "items", rows: items, dimension: d)
        positions = Embedding(store, "positions", rows: length, dimension: d)
        blocks = (0..<2).map { Block(store, "block\($0)", rows: rows, d: d, heads: heads, batch: batch, length: length) }
        finalNorm = LayerNorm(store, "final_ln", features: d, epsilon: 1e-5)
        (x0, hidden, dHidden, dx, finalXhat) = (Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]), Tensor([rows, d]))
        finalRstd = Tensor([rows])
        positionIds = (0..<rows).map { Int32($0 % length) }
        var rng = RandomSource(seed: seed)
        for p in store.parameters where p.name.hasSuffix(".weight") && p.shape.count == 2 {
            Initializer.truncatedNormal(p.value, std: 0.1, rng: &rng)
        }
    }

    /// Toy task: item sequences count upwards (wrapping), so the next item is always determined.
    func batch(step: Int) -> (ids: [Int32], labels: [Int32]) {
        var rng = RandomSource(seed: UInt64(step))
        var ids: [Int32] = [], labels: [Int32] = []
        for _ in 0..<batch {
            let start = rng.below(items)
            for t in 0..<length {
                ids.append(Int32((start + t) % items))
                labels.append(Int32((start + t + 1) % items))
            }
        }
        return (ids, labels)
    }

    /// One training step; returns the loss before the update.
    func trainStep(_ step: Int, optimizer: Adam) -> Double {
        let (ids, labels) = batch(step: step)
        store.zeroGrad()
        let lossValue = ids.withUnsafeBufferPointer { idBuffer in
            positionIds.withUnsafeBufferPointer { posBuffer in
                embedding.forward(idBuffer, into: x0)
                positions.forward(posBuffer, into: hidden)
                for i in 0..<x0.count { x0[i] += hidden[i] }
                for block in blocks { block.forward(x0) }
                finalNorm.forward(x0, into: hidden, normalized: finalXhat, rstd: finalRstd)
                let value = loss.lossAndGradient(hidden: hidden, table: embedding.table, bias: nil, labels: labels, dHidden: dHidden)
                finalNorm.backward(dHidden, normalized: finalXhat, rstd: finalRstd, dx: dx)
                for block in blocks.reversed() { block.backward(dx) }
                embedding.backward(idBuffer, dx)
                positions.backward(posBuffer, dx)
                return value
            }
        }
        store.clipGradients(maxNorm: 5)
        optimizer.update(lr: 3e-3)
        return lossValue
    }
}

final class TinyModelTests: XCTestCase {
    func testTwoLayerModelOverfitsAToySequenceTask() {
        let model = TinyModel(seed: 1)
        let adam = Adam(model.store)
        let first = model.trainStep(0, optimizer: adam)
        var last = first
        for step in 1...300 { last = model.trainStep(step, optimizer: adam) }
        XCTAssertGreaterThan(first, 2.0, "starts near log(12) = 2.48")
        XCTAssertLessThan(last, 0.05, "loss after 300 steps: \(last)")
    }

    func testResumedRunContinuesWithIdenticalLosses() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let original = TinyModel(seed: 2)
        let adam = Adam(original.store)
        var losses: [Double] = []
        for step in 0..<20 {
            if step == 10 { try Checkpoint.save(original.store, optimizer: adam, to: dir) }
            losses.append(original.trainStep(step, optimizer: adam))
        }
        let resumed = TinyModel(seed: 999)  // different initial weights: everything must come from the checkpoint
        let resumedAdam = Adam(resumed.store)
        try Checkpoint.load(resumed.store, optimizer: resumedAdam, from: dir)
        let continued = (10..<20).map { resumed.trainStep($0, optimizer: resumedAdam) }
        XCTAssertEqual(continued, Array(losses[10...]), "bit-for-bit identical")
        for (a, b) in zip(original.store.parameters, resumed.store.parameters) { XCTAssertEqual(a.value.array, b.value.array, a.name) }
    }
}
